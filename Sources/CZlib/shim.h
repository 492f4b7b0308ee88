#ifndef FIELDKIT_CZLIB_SHIM_H
#define FIELDKIT_CZLIB_SHIM_H
#include <zlib.h>
#endif
