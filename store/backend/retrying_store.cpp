#include "store/backend/retrying_store.h"

#include <cerrno>
#include <random>
#include <thread>

#include "store/base/errors.h"

namespace strata {

bool is_transient(const std::exception& e) {
    auto* s = dynamic_cast<const StoreError*>(&e);
    if (!s || s->kind() != StoreError::Kind::Io) return false;
    switch (s->error_number()) {
        case EAGAIN:
        case ECONNREFUSED:
        case ECONNRESET:
        case ETIMEDOUT:
        case EHOSTUNREACH:
        case ENETUNREACH:
        case EPIPE:
            return true;
        default:
            return false;
    }
}

namespace {

class Retrier {
  public:
    explicit Retrier(RetryPolicy p) : policy_(std::move(p)) {
        if (!policy_.sleep)
            policy_.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
        if (policy_.attempts < 1) policy_.attempts = 1;
    }

    template <class F>
    auto run(F&& f) -> decltype(f()) {
        std::chrono::milliseconds wait = policy_.first_delay;
        for (int attempt = 1;; ++attempt) {
            try {
                return f();
            } catch (const StoreError& e) {
                if (!is_transient(e)) throw;
                if (attempt >= policy_.attempts)
                    throw StoreError(e.kind(),
                                     std::string(e.what()) + " (gave up after " +
                                         std::to_string(attempt) + " tries)",
                                     e.error_number());
                std::chrono::milliseconds pause = wait;
                if (policy_.jitter) {
                    thread_local std::mt19937_64 rng{std::random_device{}()};
                    const auto half = wait.count() / 2;
                    pause = std::chrono::milliseconds(
                        half + static_cast<long>(rng() % static_cast<unsigned long>(half + 1)));
                }
                if (policy_.on_retry) policy_.on_retry(e.what(), attempt, pause);
                policy_.sleep(pause);
                wait = std::min(wait * 2, policy_.max_delay);
            }
        }
    }

  private:
    RetryPolicy policy_;
};

class RetryingWriter final : public ObjectWriter {
  public:
    RetryingWriter(std::unique_ptr<ObjectWriter> inner, Retrier& retrier)
        : inner_(std::move(inner)), retrier_(retrier) {}
    void append(ByteView data) override { inner_->append(data); }
    std::uint64_t size() const override { return inner_->size(); }
    // The inner writers of the object stores keep what was appended until they are destroyed,
    // so a failed commit can be sent again.
    void commit(const std::string& name) override {
        retrier_.run([&] { inner_->commit(name); });
    }

  private:
    std::unique_ptr<ObjectWriter> inner_;
    Retrier& retrier_;
};

class RetryingStore final : public ObjectStore {
  public:
    RetryingStore(std::unique_ptr<ObjectStore> inner, RetryPolicy policy)
        : inner_(std::move(inner)), retrier_(std::move(policy)) {}

    std::unique_ptr<ObjectWriter> create() override {
        return std::make_unique<RetryingWriter>(inner_->create(), retrier_);
    }
    void put(const std::string& name, ByteView data) override {
        retrier_.run([&] { inner_->put(name, data); });
    }
    Bytes read(const std::string& name, std::uint64_t offset, std::size_t len) override {
        return retrier_.run([&] { return inner_->read(name, offset, len); });
    }
    Bytes read_all(const std::string& name) override {
        return retrier_.run([&] { return inner_->read_all(name); });
    }
    std::uint64_t size(const std::string& name) override {
        return retrier_.run([&] { return inner_->size(name); });
    }
    bool exists(const std::string& name) override {
        return retrier_.run([&] { return inner_->exists(name); });
    }
    std::vector<ObjectInfo> list(const std::string& prefix) override {
        return retrier_.run([&] { return inner_->list(prefix); });
    }
    void remove(const std::string& name) override {
        retrier_.run([&] { inner_->remove(name); });
    }
    void discard_partial_writes() override {
        retrier_.run([&] { inner_->discard_partial_writes(); });
    }

  private:
    std::unique_ptr<ObjectStore> inner_;
    Retrier retrier_;
};

}  // namespace

std::unique_ptr<ObjectStore> open_retrying_store(std::unique_ptr<ObjectStore> inner,
                                                 RetryPolicy policy) {
    return std::make_unique<RetryingStore>(std::move(inner), std::move(policy));
}

}  // namespace strata
