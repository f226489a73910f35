#include "backend/process/tensor_proto.h"

namespace modelgate {

void MoveToProto(Tensor&& from, worker::v1::Tensor* to) {
  to->set_name(std::move(from.name));
  to->set_datatype(std::string(DataTypeName(from.datatype)));
  to->mutable_shape()->Add(from.shape.begin(), from.shape.end());
  if (from.datatype == DataType::kBytes) {
    auto* strings = to->mutable_strings();
    strings->Reserve(static_cast<int>(from.strings.size()));
    for (auto& s : from.strings) strings->Add(std::move(s));
  } else {
    to->set_raw(std::move(from.raw));
  }
}

StatusOr<Tensor> MoveFromProto(worker::v1::Tensor&& from) {
  Tensor t;
  t.name = std::move(*from.mutable_name());
  auto type = ParseDataType(from.datatype());
  if (!type) {
    return Internal("worker output '" + t.name + "' has unknown datatype '" + from.datatype() +
                    "'");
  }
  t.datatype = *type;
  t.shape.assign(from.shape().begin(), from.shape().end());
  if (t.datatype == DataType::kBytes) {
    t.strings.reserve(from.strings_size());
    for (auto& s : *from.mutable_strings()) t.strings.push_back(std::move(s));
  } else {
    t.raw = std::move(*from.mutable_raw());
  }
  if (t.ElementCount() < 0 || t.HeldElements() != t.ElementCount() ||
      (t.datatype != DataType::kBytes && t.raw.size() % ElementSize(t.datatype) != 0)) {
    return Internal("worker output '" + t.name + "' has shape " + ShapeString(t.shape) + " but " +
                    std::to_string(t.HeldElements()) + " elements");
  }
  return t;
}

}  // namespace modelgate
