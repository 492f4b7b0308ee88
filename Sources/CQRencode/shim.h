#ifndef FIELDKIT_CQRENCODE_SHIM_H
#define FIELDKIT_CQRENCODE_SHIM_H
#include <qrencode.h>
#endif
