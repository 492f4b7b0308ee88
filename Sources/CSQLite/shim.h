#ifndef FIELDKIT_CSQLITE_SHIM_H
#define FIELDKIT_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
