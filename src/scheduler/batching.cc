#include "scheduler/batching.h"

#include <algorithm>

namespace modelgate {

namespace {

const Tensor* Named(const std::vector<Tensor>& ts, const std::string& name) {
  auto it = std::find_if(ts.begin(), ts.end(), [&](const Tensor& t) { return t.name == name; });
  return it == ts.end() ? nullptr : &*it;
}

// Elements in one row (the product of the dims after the first).
int64_t RowElements(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (size_t i = 1; i < shape.size(); ++i) n *= shape[i];
  return n;
}

}  // namespace

int64_t BatchRows(const std::vector<Tensor>& inputs) {
  if (inputs.empty() || inputs[0].shape.empty()) return -1;
  return inputs[0].shape[0];
}

bool Batchable(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  if (a.size() != b.size() || a.empty()) return false;
  const int64_t rows_a = BatchRows(a), rows_b = BatchRows(b);
  if (rows_a < 0 || rows_b < 0) return false;
  for (const Tensor& ta : a) {
    const Tensor* tb = Named(b, ta.name);
    if (!tb || tb->datatype != ta.datatype || ta.shape.empty() ||
        ta.shape.size() != tb->shape.size() || ta.shape[0] != rows_a || tb->shape[0] != rows_b ||
        !std::equal(ta.shape.begin() + 1, ta.shape.end(), tb->shape.begin() + 1)) {
      return false;
    }
  }
  return true;
}

bool Batchable(const std::vector<Tensor>& a, const Parameters& pa, const std::vector<Tensor>& b,
               const Parameters& pb) {
  return pa == pb && Batchable(a, b);
}

std::vector<Tensor> ConcatBatch(const std::vector<const std::vector<Tensor>*>& requests) {
  std::vector<Tensor> out;
  for (const Tensor& first : *requests[0]) {
    Tensor t;
    t.name = first.name;
    t.datatype = first.datatype;
    t.shape = first.shape;
    t.shape[0] = 0;
    for (auto* req : requests) {
      auto it = std::find_if(req->begin(), req->end(),
                             [&](const Tensor& x) { return x.name == first.name; });
      t.shape[0] += it->shape[0];
      if (t.datatype == DataType::kBytes) {
        t.strings.insert(t.strings.end(), it->strings.begin(), it->strings.end());
      } else {
        t.raw.append(it->raw);
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

StatusOr<std::vector<std::vector<Tensor>>> SplitBatch(std::vector<Tensor> outputs,
                                                      const std::vector<int64_t>& rows) {
  int64_t total = 0;
  for (int64_t r : rows) total += r;
  std::vector<std::vector<Tensor>> out(rows.size());
  for (Tensor& t : outputs) {
    if (t.shape.empty() || t.shape[0] != total) {
      return Internal("output '" + t.name + "' has shape " + ShapeString(t.shape) +
                      ", which does not split into the batch's " + std::to_string(total) +
                      " rows; turn dynamic_batching off for this model");
    }
    const int64_t per_row = RowElements(t.shape);
    const size_t elem = ElementSize(t.datatype);
    int64_t row = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      Tensor part;
      part.name = t.name;
      part.datatype = t.datatype;
      part.shape = t.shape;
      part.shape[0] = rows[i];
      const int64_t first = row * per_row, count = rows[i] * per_row;
      if (t.datatype == DataType::kBytes) {
        part.strings.assign(std::make_move_iterator(t.strings.begin() + first),
                            std::make_move_iterator(t.strings.begin() + first + count));
      } else {
        part.raw = t.raw.substr(first * elem, count * elem);
      }
      out[i].push_back(std::move(part));
      row += rows[i];
    }
  }
  return out;
}

}  // namespace modelgate
