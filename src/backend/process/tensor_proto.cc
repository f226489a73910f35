#include "backend/process/tensor_proto.h"

#include <type_traits>
#include <variant>

#include "common/tensor_validation.h"

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

void ParametersToProto(const Parameters& parameters, worker::v1::Infer* to) {
  to->mutable_parameters()->Reserve(static_cast<int>(parameters.size()));
  for (const auto& [name, value] : parameters) {
    auto* p = to->add_parameters();
    p->set_name(name);
    std::visit(
        [p]<class T>(const T& v) {
          if constexpr (std::is_same_v<T, bool>) {
            p->set_bool_param(v);
          } else if constexpr (std::is_same_v<T, int64_t>) {
            p->set_int64_param(v);
          } else if constexpr (std::is_same_v<T, double>) {
            p->set_double_param(v);
          } else {
            p->set_string_param(v);
          }
        },
        value);
  }
}

StatusOr<Tensor> MoveFromProto(worker::v1::Tensor&& from, std::string_view model) {
  Tensor t;
  t.name = std::move(*from.mutable_name());
  auto type = ParseDataType(from.datatype());
  if (!type) {
    return Internal((model.empty() ? "" : "model '" + std::string(model) + "' ") + "output '" +
                    t.name + "' has unknown datatype '" + from.datatype().substr(0, 32) + "'");
  }
  t.datatype = *type;
  t.shape.assign(from.shape().begin(), from.shape().end());
  // Shape first: nothing below is sized from it, but a bad one ends here.
  if (auto count = ValidateShape(t, TensorSource::kWorker, model); !count.ok()) {
    return count.status();
  }
  if (t.datatype == DataType::kBytes) {
    // Sized from what the frame holds, not from the declared shape.
    t.strings.reserve(from.strings_size());
    for (auto& s : *from.mutable_strings()) t.strings.push_back(std::move(s));
  } else {
    t.raw = std::move(*from.mutable_raw());
  }
  if (Status s = ValidateTensor(t, TensorSource::kWorker, model); !s.ok()) return s;
  return t;
}

}  // namespace modelgate
