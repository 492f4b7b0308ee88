#ifndef FIELDKIT_CCURL_SHIM_H
#define FIELDKIT_CCURL_SHIM_H
#include <curl/curl.h>

/* curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call. These wrappers
   give each argument type its own typed entry point; nothing else belongs here. */

/** curl_global_init with the default flags (the macro is not importable into Swift). */
static inline CURLcode fk_curl_global_init(void) {
    return curl_global_init(CURL_GLOBAL_DEFAULT);
}

/** An option that takes a long (flags, timeouts, sizes that fit a long). */
static inline CURLcode fk_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

/** An option that takes a curl_off_t (CURLOPT_POSTFIELDSIZE_LARGE, CURLOPT_MAXFILESIZE_LARGE). */
static inline CURLcode fk_curl_setopt_off(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

/** An option that takes a C string; libcurl copies it (except CURLOPT_POSTFIELDS, see _ptr). */
static inline CURLcode fk_curl_setopt_str(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

/** An option that takes a pointer libcurl keeps without copying (CURLOPT_POSTFIELDS,
    CURLOPT_WRITEDATA, CURLOPT_HEADERDATA, CURLOPT_ERRORBUFFER). */
static inline CURLcode fk_curl_setopt_ptr(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

/** An option that takes a header list (CURLOPT_HTTPHEADER); libcurl keeps the list. */
static inline CURLcode fk_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

/** CURLOPT_WRITEFUNCTION: receives the response body. */
static inline CURLcode fk_curl_setopt_write_callback(CURL *handle, curl_write_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}

/** CURLOPT_HEADERFUNCTION: receives each response header line, status lines included. */
static inline CURLcode fk_curl_setopt_header_callback(CURL *handle, curl_write_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, callback);
}

/** Information that comes back as a long (CURLINFO_RESPONSE_CODE, CURLINFO_OS_ERRNO). */
static inline CURLcode fk_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

/** Information that comes back as a curl_off_t (CURLINFO_SIZE_DOWNLOAD_T). */
static inline CURLcode fk_curl_getinfo_off(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

/** Information that comes back as a C string owned by the handle (CURLINFO_EFFECTIVE_URL). */
static inline CURLcode fk_curl_getinfo_str(CURL *handle, CURLINFO info, char **value) {
    return curl_easy_getinfo(handle, info, value);
}

#endif
