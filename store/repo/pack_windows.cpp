#include "store/repo/pack_windows.h"

#include <algorithm>

#include "store/base/errors.h"

namespace strata {

namespace {

Bytes slice(const Bytes& window, std::uint64_t window_start, std::uint64_t offset,
            std::size_t len) {
    auto first = window.begin() + static_cast<std::ptrdiff_t>(offset - window_start);
    return Bytes(first, first + static_cast<std::ptrdiff_t>(len));
}

}  // namespace

Bytes PackWindows::read(ObjectStore& objects, const std::string& name, std::uint64_t pack_size,
                        std::uint64_t offset, std::size_t len) {
    // Past the pack's end the store would fail the read as truncated: stop there.
    std::uint64_t want = std::max<std::uint64_t>(len, window_bytes_);
    if (offset < pack_size)
        want = std::max<std::uint64_t>(len, std::min(want, pack_size - offset));
    else
        want = len;
    std::promise<std::shared_ptr<const Bytes>> mine;
    std::list<Loading>::iterator registered;
    {
        std::unique_lock lock(mu_);
        for (auto it = windows_.begin(); it != windows_.end(); ++it) {
            if (it->name != name || offset < it->start ||
                offset + len > it->start + it->bytes->size())
                continue;
            Bytes out = slice(*it->bytes, it->start, offset, len);
            windows_.splice(windows_.begin(), windows_, it);
            return out;
        }
        for (const auto& l : loading_) {
            if (l.name != name || offset < l.start || offset + len > l.end) continue;
            auto pending = l.bytes;
            const std::uint64_t start = l.start;
            lock.unlock();
            auto bytes = pending.get();
            if (bytes && offset + len <= start + bytes->size())
                return slice(*bytes, start, offset, len);
            lock.lock();
            break;  // that fetch failed or came back short: read for ourselves
        }
        if (want > len)
            registered = loading_.insert(loading_.end(),
                                         {name, offset, offset + want, mine.get_future().share()});
    }
    auto finish = [&](std::shared_ptr<const Bytes> window) {
        if (want <= len) return;
        std::lock_guard lock(mu_);
        loading_.erase(registered);
        if (window) {
            windows_.push_front({name, offset, window});
            if (windows_.size() > kPackWindows) windows_.pop_back();
        }
        mine.set_value(std::move(window));
    };
    std::shared_ptr<const Bytes> got;
    try {
        got = std::make_shared<const Bytes>(
            objects.read(name, offset, static_cast<std::size_t>(want)));
    } catch (const StoreError& e) {
        finish(nullptr);
        // A pack cut short (damage) may still hold this blob whole: read only it.
        if (e.kind() != StoreError::Kind::Corruption || want == len) throw;
        return objects.read(name, offset, len);
    } catch (...) {
        finish(nullptr);
        throw;
    }
    Bytes out = slice(*got, offset, offset, len);
    finish(std::move(got));
    return out;
}

}  // namespace strata
