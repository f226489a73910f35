#include "modelgate/worker.h"

namespace modelgate {

std::string_view WorkerStateName(WorkerState state) {
  switch (state) {
    case WorkerState::kStarting:
      return "starting";
    case WorkerState::kReady:
      return "ready";
    case WorkerState::kBusy:
      return "busy";
    case WorkerState::kDying:
      return "dying";
    case WorkerState::kDead:
      return "dead";
  }
  return "unknown";
}

std::string_view DeathCauseName(DeathCause cause) {
  switch (cause) {
    case DeathCause::kStartFailed:
      return "start_failed";
    case DeathCause::kCrash:
      return "crash";
    case DeathCause::kMalformed:
      return "malformed";
    case DeathCause::kTimeout:
      return "timeout";
    case DeathCause::kRecycle:
      return "recycle";
    case DeathCause::kStopped:
      return "stopped";
  }
  return "unknown";
}

}  // namespace modelgate
