// Tensors to R values: DecodeInputs and DecodeParams of r_tensors.h.
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "r_layout.h"
#include "r_tensors.h"

namespace modelgate::worker_host {
namespace {

namespace wv1 = worker::v1;

int ItemSize(const std::string& datatype) {
  if (datatype == "FP64" || datatype == "INT64" || datatype == "UINT64") return 8;
  if (datatype == "FP32" || datatype == "INT32" || datatype == "UINT32") return 4;
  if (datatype == "INT16" || datatype == "UINT16") return 2;
  if (datatype == "INT8" || datatype == "UINT8" || datatype == "BOOL") return 1;
  return 0;
}

// Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF) and
// no NUL, which an R string cannot hold.
bool IsText(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned c = *p;
    if (c == 0) return false;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int extra;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= extra) return false;
    for (int i = 1; i <= extra; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((extra == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
      return false;
    p += extra + 1;
  }
  return true;
}

SEXP MkUtf8(const std::string& s) {
  return Rf_mkCharLenCE(s.data(), static_cast<int>(s.size()), CE_UTF8);
}

template <typename T>
T Load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// FP32 NA (the quiet NaN 0x7FC007A2, see the README's missing-value rule)
// becomes NA_real_, which C's widening would make a plain NaN.
double WidenFloat(const char* p) {
  const float f = Load<float>(p);
  if (std::isnan(f)) {
    const auto* b = reinterpret_cast<const unsigned char*>(p);
    if (b[0] == 0xA2 && b[1] == 0x07 && (b[2] & 0x3F) == 0) return NA_REAL;
  }
  return static_cast<double>(f);
}

// The flat values of one numeric or BOOL tensor, in wire order.
SEXP DecodeFixed(const std::string& datatype, const std::string& raw, R_xlen_t n) {
  const char* p = raw.data();
  SEXP out;
  auto each_int = [&](auto load) {
    out = Rf_allocVector(INTSXP, n);
    int* v = INTEGER(out);
    for (R_xlen_t i = 0; i < n; ++i) v[i] = load(i);
  };
  auto each_real = [&](auto load) {
    out = Rf_allocVector(REALSXP, n);
    double* v = REAL(out);
    for (R_xlen_t i = 0; i < n; ++i) v[i] = load(i);
  };
  if (datatype == "FP64") {
    out = Rf_allocVector(REALSXP, n);
    if (n > 0) std::memcpy(REAL(out), p, static_cast<size_t>(n) * 8);
  } else if (datatype == "INT32") {
    out = Rf_allocVector(INTSXP, n);
    if (n > 0) std::memcpy(INTEGER(out), p, static_cast<size_t>(n) * 4);
  } else if (datatype == "FP32") {
    each_real([&](R_xlen_t i) { return WidenFloat(p + 4 * i); });
  } else if (datatype == "INT64") {
    each_real([&](R_xlen_t i) { return static_cast<double>(Load<int64_t>(p + 8 * i)); });
  } else if (datatype == "UINT64") {
    each_real([&](R_xlen_t i) { return static_cast<double>(Load<uint64_t>(p + 8 * i)); });
  } else if (datatype == "UINT32") {
    each_real([&](R_xlen_t i) { return static_cast<double>(Load<uint32_t>(p + 4 * i)); });
  } else if (datatype == "INT16") {
    each_int([&](R_xlen_t i) { return static_cast<int>(Load<int16_t>(p + 2 * i)); });
  } else if (datatype == "UINT16") {
    each_int([&](R_xlen_t i) { return static_cast<int>(Load<uint16_t>(p + 2 * i)); });
  } else if (datatype == "INT8") {
    each_int([&](R_xlen_t i) { return static_cast<int>(Load<int8_t>(p + i)); });
  } else if (datatype == "UINT8") {
    each_int([&](R_xlen_t i) { return static_cast<int>(Load<uint8_t>(p + i)); });
  } else {  // BOOL
    out = Rf_allocVector(LGLSXP, n);
    int* v = LOGICAL(out);
    for (R_xlen_t i = 0; i < n; ++i) v[i] = p[i] != 0;
  }
  return out;
}

// BYTES elements as the model sees them: a character vector when every
// element is UTF-8 without NUL, else a list whose elements are each a
// string or, where not text, a raw vector.
SEXP DecodeBytes(const wv1::Tensor& t) {
  const R_xlen_t n = t.strings_size();
  bool all_text = true;
  for (const std::string& s : t.strings()) all_text = all_text && IsText(s);
  if (all_text) {
    SEXP out = PROTECT(Rf_allocVector(STRSXP, n));
    for (R_xlen_t i = 0; i < n; ++i) SET_STRING_ELT(out, i, MkUtf8(t.strings(static_cast<int>(i))));
    UNPROTECT(1);
    return out;
  }
  SEXP out = PROTECT(Rf_allocVector(VECSXP, n));
  for (R_xlen_t i = 0; i < n; ++i) {
    const std::string& s = t.strings(static_cast<int>(i));
    if (IsText(s)) {
      SET_VECTOR_ELT(out, i, Rf_ScalarString(MkUtf8(s)));
    } else {
      SEXP r = Rf_allocVector(RAWSXP, static_cast<R_xlen_t>(s.size()));
      if (!s.empty()) std::memcpy(RAW(r), s.data(), s.size());
      SET_VECTOR_ELT(out, i, r);
    }
  }
  UNPROTECT(1);
  return out;
}

// Row-major flat values to an R array of dims (column-major).
SEXP ToArray(SEXP flat, const std::vector<int64_t>& dims) {
  PROTECT(flat);
  const R_xlen_t n = Rf_xlength(flat);
  ColumnMajorWalk walk(dims);
  SEXP out = PROTECT(Rf_allocVector(TYPEOF(flat), n));
  for (R_xlen_t j = 0; j < n; ++j) {
    const R_xlen_t c = walk.Next();
    switch (TYPEOF(flat)) {
      case REALSXP:
        REAL(out)[c] = REAL(flat)[j];
        break;
      case INTSXP:
        INTEGER(out)[c] = INTEGER(flat)[j];
        break;
      case LGLSXP:
        LOGICAL(out)[c] = LOGICAL(flat)[j];
        break;
      case STRSXP:
        SET_STRING_ELT(out, c, STRING_ELT(flat, j));
        break;
      default:
        SET_VECTOR_ELT(out, c, VECTOR_ELT(flat, j));
        break;
    }
  }
  SEXP dim = PROTECT(Rf_allocVector(INTSXP, static_cast<R_xlen_t>(dims.size())));
  for (size_t k = 0; k < dims.size(); ++k) INTEGER(dim)[k] = static_cast<int>(dims[k]);
  Rf_setAttrib(out, R_DimSymbol, dim);
  UNPROTECT(3);
  return out;
}

// One tensor to a vector (rank <= 1) or an array; nullptr and *invalid on
// bad input. Sizes are checked against the data before anything is made.
SEXP DecodeTensor(const wv1::Tensor& t, std::string* invalid) {
  const std::string& name = t.name();
  const std::string& datatype = t.datatype();
  std::vector<int64_t> dims(t.shape().begin(), t.shape().end());
  double n = 1;  // as the script runtime computes it, for its messages
  bool negative = false;
  for (const int64_t d : dims) {
    n *= static_cast<double>(d);
    negative = negative || d < 0;
  }
  const int size = ItemSize(datatype);
  const bool bytes = datatype == "BYTES";
  if (size > 0 && static_cast<double>(t.raw().size()) != n * size) {
    *invalid = "input '" + name + "': shape [" + JoinShape(dims) + "] of " + datatype + " needs " +
               FormatCount(n * size) + " bytes, got " + FormatCount(t.raw().size());
    return nullptr;
  }
  if (size == 0 && !bytes) {
    *invalid = "input '" + name + "': datatype " + datatype + " is not supported by the R runtime";
    return nullptr;
  }
  if (bytes && static_cast<double>(t.strings_size()) != n) {
    *invalid = "input '" + name + "': shape [" + JoinShape(dims) + "] needs " + FormatCount(n) +
               " elements, got " + std::to_string(t.strings_size());
    return nullptr;
  }
  bool fits = !negative;
  for (const int64_t d : dims) fits = fits && d <= INT_MAX;
  if (!fits) {
    *invalid = "input '" + name + "': shape [" + JoinShape(dims) + "] is not a valid array shape";
    return nullptr;
  }
  // n is now the data's own length, so bounded by the frame.
  SEXP flat = bytes ? DecodeBytes(t) : DecodeFixed(datatype, t.raw(), static_cast<R_xlen_t>(n));
  return dims.size() > 1 ? ToArray(flat, dims) : flat;
}

// factor(x, levels = levels) for a character vector.
SEXP MakeFactor(SEXP x, SEXP levels) {
  const R_xlen_t n = Rf_xlength(x);
  const R_xlen_t nlev = Rf_xlength(levels);
  SEXP codes = PROTECT(Rf_allocVector(INTSXP, n));
  for (R_xlen_t i = 0; i < n; ++i) {
    int code = NA_INTEGER;
    SEXP s = STRING_ELT(x, i);
    if (s != NA_STRING) {
      const char* v = Rf_translateCharUTF8(s);
      for (R_xlen_t k = 0; k < nlev; ++k) {
        SEXP l = STRING_ELT(levels, k);
        if (l != NA_STRING && std::strcmp(v, Rf_translateCharUTF8(l)) == 0) {
          code = static_cast<int>(k + 1);
          break;
        }
      }
    }
    INTEGER(codes)[i] = code;
  }
  Rf_setAttrib(codes, R_LevelsSymbol, levels);
  Rf_setAttrib(codes, R_ClassSymbol, Rf_mkString("factor"));
  UNPROTECT(1);
  return codes;
}

SEXP ListElement(SEXP list, const std::string& name) {
  SEXP names = Rf_getAttrib(list, R_NamesSymbol);
  if (Rf_isNull(names)) return R_NilValue;
  for (R_xlen_t i = 0; i < Rf_xlength(list); ++i)
    if (name == Rf_translateCharUTF8(STRING_ELT(names, i))) return VECTOR_ELT(list, i);
  return R_NilValue;
}

// The named list of inputs made a data.frame (equal lengths, 1-D columns).
SEXP AsDataFrame(SEXP values, SEXP factor_levels, std::string* invalid) {
  const R_xlen_t count = Rf_xlength(values);
  SEXP names = Rf_getAttrib(values, R_NamesSymbol);
  for (R_xlen_t i = 0; i < count; ++i) {
    SEXP v = VECTOR_ELT(values, i);
    SEXP dim = Rf_getAttrib(v, R_DimSymbol);
    if (Rf_isNull(dim)) continue;
    if (Rf_xlength(dim) == 2 && INTEGER(dim)[1] == 1) {
      Rf_setAttrib(v, R_DimSymbol, R_NilValue);  // column-major [n,1] is already flat
      continue;
    }
    std::vector<int64_t> d(INTEGER(dim), INTEGER(dim) + Rf_xlength(dim));
    *invalid = std::string("input '") + Rf_translateCharUTF8(STRING_ELT(names, i)) +
               "': data-frame mode needs 1-D inputs, got shape [" + JoinShape(d) + "]";
    return nullptr;
  }
  for (R_xlen_t i = 0; i < count; ++i) {
    SEXP levels = ListElement(factor_levels, Rf_translateCharUTF8(STRING_ELT(names, i)));
    SEXP v = VECTOR_ELT(values, i);
    if (!Rf_isNull(levels) && TYPEOF(v) == STRSXP) SET_VECTOR_ELT(values, i, MakeFactor(v, levels));
  }
  std::vector<R_xlen_t> lens;
  for (R_xlen_t i = 0; i < count; ++i) {
    const R_xlen_t len = Rf_xlength(VECTOR_ELT(values, i));
    bool seen = false;
    for (const R_xlen_t l : lens) seen = seen || l == len;
    if (!seen) lens.push_back(len);
  }
  if (lens.size() > 1) {
    std::string got;
    for (const R_xlen_t l : lens) got += (got.empty() ? "" : ", ") + std::to_string(l);
    *invalid = "data-frame mode needs inputs of equal length, got " + got;
    return nullptr;
  }
  // A data.frame built directly, compact row names as .set_row_names(n).
  const R_xlen_t rows = lens.empty() ? 0 : lens[0];
  SEXP row_names;
  if (rows > 0) {
    row_names = PROTECT(Rf_allocVector(INTSXP, 2));
    INTEGER(row_names)[0] = NA_INTEGER;
    INTEGER(row_names)[1] = -static_cast<int>(rows);
  } else {
    row_names = PROTECT(Rf_allocVector(INTSXP, 0));
  }
  Rf_setAttrib(values, R_RowNamesSymbol, row_names);
  Rf_setAttrib(values, R_ClassSymbol, Rf_mkString("data.frame"));
  UNPROTECT(1);
  return values;
}

}  // namespace

SEXP DecodeInputs(const wv1::Infer& infer, bool dataframe, SEXP factor_levels,
                  std::string* invalid) {
  const int count = infer.inputs_size();
  SEXP values = PROTECT(Rf_allocVector(VECSXP, count));
  SEXP names = PROTECT(Rf_allocVector(STRSXP, count));
  Rf_setAttrib(values, R_NamesSymbol, names);
  for (int i = 0; i < count; ++i) {
    const wv1::Tensor& t = infer.inputs(i);
    SEXP v = DecodeTensor(t, invalid);
    if (v == nullptr) {
      UNPROTECT(2);
      return nullptr;
    }
    SET_VECTOR_ELT(values, i, v);
    SET_STRING_ELT(names, i, MkUtf8(t.name()));
  }
  SEXP out = dataframe ? AsDataFrame(values, factor_levels, invalid) : values;
  UNPROTECT(2);
  return out;
}

SEXP DecodeParams(const wv1::Infer& infer) {
  const int count = infer.parameters_size();
  SEXP out = PROTECT(Rf_allocVector(VECSXP, count));
  SEXP names = PROTECT(Rf_allocVector(STRSXP, count));
  Rf_setAttrib(out, R_NamesSymbol, names);
  for (int i = 0; i < count; ++i) {
    const wv1::Parameter& p = infer.parameters(i);
    SET_STRING_ELT(names, i, MkUtf8(p.name()));
    switch (p.value_case()) {
      case wv1::Parameter::kBoolParam:
        SET_VECTOR_ELT(out, i, Rf_ScalarLogical(p.bool_param() ? 1 : 0));
        break;
      case wv1::Parameter::kInt64Param:
        SET_VECTOR_ELT(out, i, Rf_ScalarReal(static_cast<double>(p.int64_param())));
        break;
      case wv1::Parameter::kDoubleParam:
        SET_VECTOR_ELT(out, i, Rf_ScalarReal(p.double_param()));
        break;
      case wv1::Parameter::kStringParam:
        SET_VECTOR_ELT(out, i, Rf_ScalarString(MkUtf8(p.string_param())));
        break;
      default:
        break;  // stays NULL
    }
  }
  UNPROTECT(2);
  return out;
}

}  // namespace modelgate::worker_host
