#ifndef XDSC_RE2SHIM_H
#define XDSC_RE2SHIM_H
// A plain C API over RE2, so Swift needs no C++ interop.
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif

typedef struct re2shim_regex re2shim_regex;

/// Compiles `pattern` with RE2's default options, as Envoy does (UTF-8, case-sensitive,
/// quiet). Returns NULL and a malloc'd message in *err on failure.
re2shim_regex *re2shim_compile(const char *pattern, size_t len, char **err);
void re2shim_free(re2shim_regex *re);
void re2shim_free_string(char *s);
/// 1 when the whole text matches (RE2::FullMatch), else 0.
int re2shim_full_match(const re2shim_regex *re, const char *text, size_t len);
/// 1 when some part of the text matches (RE2::PartialMatch), else 0.
int re2shim_partial_match(const re2shim_regex *re, const char *text, size_t len);
/// The compiled program size Envoy compares with its max_program_size limit.
int re2shim_program_size(const re2shim_regex *re);
/// Replaces every non-overlapping match (RE2::GlobalReplace); returns a malloc'd string
/// (and its length in *outlen) or NULL when the rewrite string is invalid.
char *re2shim_global_replace(const re2shim_regex *re, const char *text, size_t len,
                             const char *rewrite, size_t rewrite_len, size_t *outlen, char **err);

#ifdef __cplusplus
}
#endif
#endif
