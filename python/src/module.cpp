// python/src/module.cpp - the extension module hamuxc._core; the Error exception.
#include "binding.h"

namespace hamuxpy {

namespace {
PyObject* error_type = nullptr;
}

void bind_errors(nb::module_& m) {
  error_type = PyErr_NewExceptionWithDoc(
      "hamuxc.Error",
      "Bad input, as hamux reports it (hamux::Error).\n\n"
      "str(e) is hamux's message, e.g. 'm.json: /neurons/x/shape: ...'. e.where is the place (a file\n"
      "and JSON pointer, a neuron, a param; may be empty) and e.cause what is wrong there.",
      PyExc_Exception, nullptr);
  m.attr("Error") = nb::handle(error_type);
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const hamux::Error& e) {
      nb::object exc = nb::handle(error_type)(nb::str(e.what()));
      exc.attr("where") = nb::str(e.where().c_str());
      exc.attr("cause") = nb::str(e.cause().c_str());
      PyErr_SetObject(error_type, exc.ptr());
    }
  });
}

}  // namespace hamuxpy

NB_MODULE(_core, m) {
  m.doc() = "hamuxc._core: the extension module over include/hamux/hamux.h (use the package hamuxc).";
  hamuxpy::bind_errors(m);
  hamuxpy::bind_model(m);
  hamuxpy::bind_states(m);
  hamuxpy::bind_run(m);
  hamuxpy::bind_gradients(m);
  hamuxpy::bind_training(m);
}
