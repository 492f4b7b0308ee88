#ifndef FIELDKIT_CCURL_SHIM_H
#define FIELDKIT_CCURL_SHIM_H
#include <curl/curl.h>
#endif
