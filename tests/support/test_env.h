// Paths and helpers shared by the C++ tests.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "backend/process/worker_command.h"

namespace modelgate::testing {

std::string SourceDir();
std::string BinaryDir();
std::string ExampleModelDir(const std::string& model, const std::string& version = "1");
std::string TestModelDir(const std::string& model, const std::string& version = "1");

// Python with numpy for reference computations: $MODELGATE_PYTHON, else
// /usr/bin/python3 (Debian's, which sees python3-numpy) when present.
std::string TestPython();
// The build tree's modelgate-worker, or $MODELGATE_WORKER_HOST.
RuntimeSettings TestRuntime();

// Runs `io` until `done()` holds or `timeout` passes; returns done().
bool RunUntil(boost::asio::io_context& io, const std::function<bool()>& done,
              std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace modelgate::testing

namespace modelgate::testing {

// Runs a shell command and returns its stdout (test set-up only).
std::string RunCommand(const std::string& command);

}  // namespace modelgate::testing
