#ifndef FIELDKIT_CCURL_SHIM_H
#define FIELDKIT_CCURL_SHIM_H
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

/* libcurl is opened when the first request is made, not linked: linked, it and the ~35
   libraries it needs (TLS, Kerberos, LDAP, HTTP/2...) are mapped at every start of fieldkit,
   which doubled the time and memory of a scan that never talks to the network. The header
   gives the types and constants; the functions come from libcurl.so.4 through this table.

   curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call: the wrappers
   below give each argument type its own typed entry point. */

typedef struct {
    int loaded;
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    void (*easy_reset)(CURL *);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    CURLU *(*url)(void);
    void (*url_cleanup)(CURLU *);
    CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
    CURLUcode (*url_get)(const CURLU *, CURLUPart, char **, unsigned int);
    void (*free)(void *);
} fk_curl_api;

/* State lives in functions: Swift emits a header's inline functions, not its variables. */
static inline fk_curl_api *fk_curl_tab(void) {
    static fk_curl_api table;
    return &table;
}

static inline pthread_once_t *fk_curl_once(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    return &once;
}

#define fk_curl_table (*fk_curl_tab())

static inline void fk_curl_load(void) {
    void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen("libcurl.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return;
    fk_curl_api t;
#define FK_CURL_SYM(field, name) *(void **)(&t.field) = dlsym(lib, name); if (!t.field) return;
    FK_CURL_SYM(global_init, "curl_global_init")
    FK_CURL_SYM(easy_init, "curl_easy_init")
    FK_CURL_SYM(easy_cleanup, "curl_easy_cleanup")
    FK_CURL_SYM(easy_reset, "curl_easy_reset")
    FK_CURL_SYM(easy_perform, "curl_easy_perform")
    FK_CURL_SYM(easy_setopt, "curl_easy_setopt")
    FK_CURL_SYM(easy_getinfo, "curl_easy_getinfo")
    FK_CURL_SYM(easy_strerror, "curl_easy_strerror")
    FK_CURL_SYM(slist_append, "curl_slist_append")
    FK_CURL_SYM(slist_free_all, "curl_slist_free_all")
    FK_CURL_SYM(url, "curl_url")
    FK_CURL_SYM(url_cleanup, "curl_url_cleanup")
    FK_CURL_SYM(url_set, "curl_url_set")
    FK_CURL_SYM(url_get, "curl_url_get")
    FK_CURL_SYM(free, "curl_free")
#undef FK_CURL_SYM
    t.loaded = 1;
    fk_curl_table = t;
}

/** Opens libcurl once (thread-safe); 0 when it is not installed. */
static inline int fk_curl_available(void) {
    pthread_once(fk_curl_once(), fk_curl_load);
    return fk_curl_table.loaded;
}

/** curl_global_init with the default flags (the macro is not importable into Swift). */
static inline CURLcode fk_curl_global_init(void) {
    return fk_curl_available() ? fk_curl_table.global_init(CURL_GLOBAL_DEFAULT) : CURLE_FAILED_INIT;
}

static inline CURL *fk_curl_easy_init(void) { return fk_curl_available() ? fk_curl_table.easy_init() : NULL; }
static inline void fk_curl_easy_cleanup(CURL *h) { fk_curl_table.easy_cleanup(h); }
static inline void fk_curl_easy_reset(CURL *h) { fk_curl_table.easy_reset(h); }
static inline CURLcode fk_curl_easy_perform(CURL *h) { return fk_curl_table.easy_perform(h); }
static inline const char *fk_curl_easy_strerror(CURLcode c) {
    return fk_curl_available() ? fk_curl_table.easy_strerror(c) : "libcurl.so.4 is not installed";
}
static inline struct curl_slist *fk_curl_slist_append(struct curl_slist *l, const char *s) {
    return fk_curl_table.slist_append(l, s);
}
static inline void fk_curl_slist_free_all(struct curl_slist *l) { fk_curl_table.slist_free_all(l); }
static inline CURLU *fk_curl_url(void) { return fk_curl_available() ? fk_curl_table.url() : NULL; }
static inline void fk_curl_url_cleanup(CURLU *u) { fk_curl_table.url_cleanup(u); }
static inline CURLUcode fk_curl_url_set(CURLU *u, CURLUPart p, const char *s, unsigned int f) {
    return fk_curl_table.url_set(u, p, s, f);
}
static inline CURLUcode fk_curl_url_get(const CURLU *u, CURLUPart p, char **s, unsigned int f) {
    return fk_curl_table.url_get(u, p, s, f);
}
static inline void fk_curl_free(void *p) { fk_curl_table.free(p); }

/** An option that takes a long (flags, timeouts, sizes that fit a long). */
static inline CURLcode fk_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return fk_curl_table.easy_setopt(handle, option, value);
}

/** An option that takes a curl_off_t (CURLOPT_POSTFIELDSIZE_LARGE, CURLOPT_MAXFILESIZE_LARGE). */
static inline CURLcode fk_curl_setopt_off(CURL *handle, CURLoption option, curl_off_t value) {
    return fk_curl_table.easy_setopt(handle, option, value);
}

/** An option that takes a C string; libcurl copies it (except CURLOPT_POSTFIELDS, see _ptr). */
static inline CURLcode fk_curl_setopt_str(CURL *handle, CURLoption option, const char *value) {
    return fk_curl_table.easy_setopt(handle, option, value);
}

/** An option that takes a pointer libcurl keeps without copying (CURLOPT_POSTFIELDS,
    CURLOPT_WRITEDATA, CURLOPT_HEADERDATA, CURLOPT_ERRORBUFFER). */
static inline CURLcode fk_curl_setopt_ptr(CURL *handle, CURLoption option, void *value) {
    return fk_curl_table.easy_setopt(handle, option, value);
}

/** An option that takes a header list (CURLOPT_HTTPHEADER); libcurl keeps the list. */
static inline CURLcode fk_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return fk_curl_table.easy_setopt(handle, option, value);
}

/** CURLOPT_WRITEFUNCTION: receives the response body. */
static inline CURLcode fk_curl_setopt_write_callback(CURL *handle, curl_write_callback callback) {
    return fk_curl_table.easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}

/** CURLOPT_HEADERFUNCTION: receives each response header line, status lines included. */
static inline CURLcode fk_curl_setopt_header_callback(CURL *handle, curl_write_callback callback) {
    return fk_curl_table.easy_setopt(handle, CURLOPT_HEADERFUNCTION, callback);
}

/** Information that comes back as a long (CURLINFO_RESPONSE_CODE, CURLINFO_OS_ERRNO). */
static inline CURLcode fk_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return fk_curl_table.easy_getinfo(handle, info, value);
}

/** Information that comes back as a curl_off_t (CURLINFO_SIZE_DOWNLOAD_T). */
static inline CURLcode fk_curl_getinfo_off(CURL *handle, CURLINFO info, curl_off_t *value) {
    return fk_curl_table.easy_getinfo(handle, info, value);
}

/** Information that comes back as a C string owned by the handle (CURLINFO_EFFECTIVE_URL). */
static inline CURLcode fk_curl_getinfo_str(CURL *handle, CURLINFO info, char **value) {
    return fk_curl_table.easy_getinfo(handle, info, value);
}

#endif
