// R values to tensors: EncodeOutputs of r_tensors.h.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "r_layout.h"
#include "r_tensors.h"

namespace modelgate::worker_host {
namespace {

namespace wv1 = worker::v1;

std::string NaMessage(const std::string& name, R_xlen_t at, const char* what) {
  std::string msg = "output '" + name + "': element " + std::to_string(at) + " is NA, which " +
                    what + " cannot carry";
  if (std::strcmp(what, "BYTES") != 0) msg += "; return a double (NA_real_) to send NA";
  return msg;
}

// A CHARSXP's bytes as UTF-8 (enc2utf8; "bytes"-encoded strings as they are).
std::string Utf8Bytes(SEXP s) {
  if (Rf_getCharCE(s) == CE_BYTES) return std::string(CHAR(s), static_cast<size_t>(LENGTH(s)));
  return Rf_translateCharUTF8(s);
}

bool BytesElement(const std::string& name, SEXP x, std::string* out, std::string* error) {
  if (TYPEOF(x) == RAWSXP) {
    out->assign(reinterpret_cast<const char*>(RAW(x)), static_cast<size_t>(Rf_xlength(x)));
    return true;
  }
  if (TYPEOF(x) == STRSXP && Rf_xlength(x) == 1) {
    if (STRING_ELT(x, 0) == NA_STRING) {
      *error = "output '" + name + "': a BYTES list element is NA, which BYTES cannot carry";
      return false;
    }
    *out = Utf8Bytes(STRING_ELT(x, 0));
    return true;
  }
  *error = "output '" + name + "': a BYTES list element must be a string or a raw vector, got " +
           Rf_type2char(TYPEOF(x));
  return false;
}

// as.character(factor): the levels of its codes, NA where the code is NA.
SEXP FactorAsCharacter(SEXP f) {
  SEXP levels = Rf_getAttrib(f, R_LevelsSymbol);
  const R_xlen_t n = Rf_xlength(f);
  SEXP out = PROTECT(Rf_allocVector(STRSXP, n));
  for (R_xlen_t i = 0; i < n; ++i) {
    const int code = INTEGER(f)[i];
    SET_STRING_ELT(out, i,
                   code == NA_INTEGER || code < 1 || code > Rf_xlength(levels)
                       ? NA_STRING
                       : STRING_ELT(levels, code - 1));
  }
  UNPROTECT(1);
  return out;
}

bool EncodeTensor(const std::string& name, SEXP v, wv1::Tensor* t, std::string* error) {
  t->set_name(name);
  if (Rf_isFactor(v) && TYPEOF(v) == INTSXP) v = FactorAsCharacter(v);
  PROTECT(v);
  struct Unprotect {
    ~Unprotect() { UNPROTECT(1); }
  } unprotect;
  // A raw vector is one BYTES element; a list holds one element per entry.
  if (TYPEOF(v) == RAWSXP) {
    t->set_datatype("BYTES");
    t->add_shape(1);
    t->add_strings(reinterpret_cast<const char*>(RAW(v)), static_cast<size_t>(Rf_xlength(v)));
    return true;
  }
  const R_xlen_t n = Rf_xlength(v);
  SEXP dim = Rf_getAttrib(v, R_DimSymbol);
  std::vector<int64_t> dims;
  if (Rf_isNull(dim)) {
    dims.push_back(n);
  } else {
    for (R_xlen_t k = 0; k < Rf_xlength(dim); ++k) dims.push_back(INTEGER(dim)[k]);
  }
  for (const int64_t d : dims) t->add_shape(d);
  // Row-major element j is R's element i (dims transposed back), walked in
  // O(rank) memory: an output may be as large as a frame.
  auto each = [&](auto visit) { return VisitRowMajor(dims, n, visit); };
  auto first_na = [&](auto is_na) -> R_xlen_t {
    R_xlen_t first = -1;
    each([&](R_xlen_t j, R_xlen_t i) {
      if (!is_na(i)) return true;
      first = j;
      return false;
    });
    return first;
  };
  switch (TYPEOF(v)) {
    case LGLSXP: {
      const int* x = LOGICAL(v);
      if (R_xlen_t j = first_na([&](R_xlen_t i) { return x[i] == NA_LOGICAL; }); j >= 0) {
        *error = NaMessage(name, j, "BOOL");
        return false;
      }
      t->set_datatype("BOOL");
      std::string* raw = t->mutable_raw();
      raw->resize(static_cast<size_t>(n));
      each([&](R_xlen_t j, R_xlen_t i) {
        (*raw)[static_cast<size_t>(j)] = x[i] != 0 ? 1 : 0;
        return true;
      });
      return true;
    }
    case INTSXP: {
      const int* x = INTEGER(v);
      if (R_xlen_t j = first_na([&](R_xlen_t i) { return x[i] == NA_INTEGER; }); j >= 0) {
        *error = NaMessage(name, j, "INT32");
        return false;
      }
      t->set_datatype("INT32");
      std::string* raw = t->mutable_raw();
      raw->resize(static_cast<size_t>(n) * 4);
      each([&](R_xlen_t j, R_xlen_t i) {
        std::memcpy(raw->data() + 4 * j, &x[i], 4);
        return true;
      });
      return true;
    }
    case REALSXP: {
      const double* x = REAL(v);
      t->set_datatype("FP64");
      std::string* raw = t->mutable_raw();
      raw->resize(static_cast<size_t>(n) * 8);
      if (dims.size() <= 1) {
        if (n > 0) std::memcpy(raw->data(), x, static_cast<size_t>(n) * 8);
      } else {
        each([&](R_xlen_t j, R_xlen_t i) {
          std::memcpy(raw->data() + 8 * j, &x[i], 8);
          return true;
        });
      }
      return true;
    }
    case STRSXP: {
      if (R_xlen_t j = first_na([&](R_xlen_t i) { return STRING_ELT(v, i) == NA_STRING; });
          j >= 0) {
        *error = NaMessage(name, j, "BYTES");
        return false;
      }
      t->set_datatype("BYTES");
      each([&](R_xlen_t, R_xlen_t i) {
        t->add_strings(Utf8Bytes(STRING_ELT(v, i)));
        return true;
      });
      return true;
    }
    case VECSXP: {
      t->set_datatype("BYTES");
      return each([&](R_xlen_t, R_xlen_t i) {
        return BytesElement(name, VECTOR_ELT(v, i), t->add_strings(), error);
      });
    }
    default:
      *error = "output '" + name + "' has R type " + Rf_type2char(TYPEOF(v)) +
               ", which has no V2 datatype";
      return false;
  }
}

}  // namespace

bool EncodeOutputs(SEXP value, wv1::Result* result, std::string* error) {
  SEXP names = Rf_getAttrib(value, R_NamesSymbol);
  bool named = TYPEOF(value) == VECSXP && !Rf_isNull(names);
  for (R_xlen_t i = 0; named && i < Rf_xlength(names); ++i)
    named = STRING_ELT(names, i) != NA_STRING && CHAR(STRING_ELT(names, i))[0] != '\0';
  if (!named) {
    *error = "predict_fn must return a named list or a data.frame of outputs";
    return false;
  }
  for (R_xlen_t i = 0; i < Rf_xlength(value); ++i) {
    if (!EncodeTensor(Utf8Bytes(STRING_ELT(names, i)), VECTOR_ELT(value, i), result->add_outputs(),
                      error))
      return false;
  }
  return true;
}

}  // namespace modelgate::worker_host
