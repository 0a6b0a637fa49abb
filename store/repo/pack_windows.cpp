#include "store/repo/pack_windows.h"

#include <algorithm>

#include "store/base/errors.h"

namespace strata {

Bytes PackWindows::read(ObjectStore& objects, const std::string& name, std::uint64_t pack_size,
                        std::uint64_t offset, std::size_t len) {
    {
        std::lock_guard lock(mu_);
        for (auto it = windows_.begin(); it != windows_.end(); ++it) {
            if (it->name != name || offset < it->start ||
                offset + len > it->start + it->bytes->size())
                continue;
            auto first = it->bytes->begin() + static_cast<std::ptrdiff_t>(offset - it->start);
            Bytes out(first, first + static_cast<std::ptrdiff_t>(len));
            windows_.splice(windows_.begin(), windows_, it);
            return out;
        }
    }
    // Past the pack's end the store would fail the read as truncated: stop there.
    std::uint64_t want = std::max<std::uint64_t>(len, kPackWindowBytes);
    if (offset < pack_size)
        want = std::max<std::uint64_t>(len, std::min(want, pack_size - offset));
    else
        want = len;
    Bytes got;
    try {
        got = objects.read(name, offset, static_cast<std::size_t>(want));
    } catch (const StoreError& e) {
        // A pack cut short (damage) may still hold this blob whole: read only it.
        if (e.kind() != StoreError::Kind::Corruption || want == len) throw;
        return objects.read(name, offset, len);
    }
    Bytes out(got.begin(), got.begin() + static_cast<std::ptrdiff_t>(len));
    if (want > len) {
        std::lock_guard lock(mu_);
        windows_.push_front({name, offset, std::make_shared<const Bytes>(std::move(got))});
        if (windows_.size() > kPackWindows) windows_.pop_back();
    }
    return out;
}

}  // namespace strata
