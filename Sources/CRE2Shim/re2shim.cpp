#include "re2shim.h"
#include <re2/re2.h>
#include <cstdlib>
#include <cstring>
#include <string>

struct re2shim_regex {
  re2::RE2 re;
  re2shim_regex(const char *p, size_t n, const re2::RE2::Options &o) : re(re2::StringPiece(p, n), o) {}
};

static char *dup_string(const std::string &s) {
  char *out = static_cast<char *>(std::malloc(s.size() + 1));
  if (out == nullptr) return nullptr;
  std::memcpy(out, s.data(), s.size());
  out[s.size()] = '\0';
  return out;
}

extern "C" {

re2shim_regex *re2shim_compile(const char *pattern, size_t len, char **err) {
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  auto *r = new re2shim_regex(pattern, len, opts);
  if (!r->re.ok()) {
    if (err != nullptr) *err = dup_string(r->re.error());
    delete r;
    return nullptr;
  }
  return r;
}

void re2shim_free(re2shim_regex *re) { delete re; }
void re2shim_free_string(char *s) { std::free(s); }

int re2shim_full_match(const re2shim_regex *re, const char *text, size_t len) {
  return re2::RE2::FullMatch(re2::StringPiece(text, len), re->re) ? 1 : 0;
}

int re2shim_partial_match(const re2shim_regex *re, const char *text, size_t len) {
  return re2::RE2::PartialMatch(re2::StringPiece(text, len), re->re) ? 1 : 0;
}

int re2shim_program_size(const re2shim_regex *re) { return re->re.ProgramSize(); }

char *re2shim_global_replace(const re2shim_regex *re, const char *text, size_t len,
                             const char *rewrite, size_t rewrite_len, size_t *outlen, char **err) {
  std::string s(text, len);
  re2::StringPiece rw(rewrite, rewrite_len);
  std::string why;
  if (!re->re.CheckRewriteString(rw, &why)) {
    if (err != nullptr) *err = dup_string(why);
    return nullptr;
  }
  re2::RE2::GlobalReplace(&s, re->re, rw);
  if (outlen != nullptr) *outlen = s.size();
  return dup_string(s);
}

}  // extern "C"
