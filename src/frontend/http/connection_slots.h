// ConnectionSlots: the bounded set of open connections of one HttpServer,
// and which of them may be closed to make room.
//
// A connection holds a Slot while it is open. While it waits for the first
// byte of a request (a fresh connection, a TLS handshake, or keep-alive
// between requests) it is idle: the client loses nothing if it is closed
// (RFC 9112 §9.6 lets a server close an idle connection at any time). When
// every slot is taken, a new connection takes the slot of the connection that
// has been idle longest, which is closed; only when no connection is idle is
// the new one refused. So a client holding many idle connections cannot lock
// out another client's request; connections in the middle of a request (header,
// body, answer) are never evicted, and are bounded by their own timeouts.
//
// Threading: one thread (the server's io thread). Slots may outlive the
// ConnectionSlots' owner (they share it).
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <optional>

namespace modelgate {

class ConnectionSlots : public std::enable_shared_from_this<ConnectionSlots> {
 public:
  class Slot {
   public:
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

    // The connection waits for a request; `close` is called at most once,
    // if the slot is taken for another connection. `close` must not destroy
    // the Slot synchronously.
    void SetIdle(std::function<void()> close);
    // The connection is reading or answering a request.
    void SetBusy();
    bool evicted() const { return evicted_; }

   private:
    friend class ConnectionSlots;
    explicit Slot(std::shared_ptr<ConnectionSlots> owner) : owner_(std::move(owner)) {}

    std::shared_ptr<ConnectionSlots> owner_;
    std::optional<std::list<Slot*>::iterator> idle_pos_;  // set while idle
    std::function<void()> close_;
    bool evicted_ = false;
  };

  static std::shared_ptr<ConnectionSlots> Create(size_t max_connections);

  // A slot for a new connection: a free one, else the one of the connection
  // idle longest (that connection is closed). nullptr when every slot is held
  // by a busy connection.
  std::unique_ptr<Slot> Acquire();
  // Closes the connection idle longest and frees its slot (used when the
  // process is out of descriptors). False when no connection is idle.
  bool EvictOldestIdle();

  size_t open() const { return open_; }
  size_t idle() const { return idle_.size(); }
  size_t max_connections() const { return max_; }

 private:
  explicit ConnectionSlots(size_t max_connections) : max_(max_connections) {}
  void Release(Slot& slot);
  // Takes the oldest idle slot out of the set; returns its close callback.
  std::function<void()> TakeOldestIdle();

  const size_t max_;
  size_t open_ = 0;
  std::list<Slot*> idle_;  // oldest first
};

}  // namespace modelgate
