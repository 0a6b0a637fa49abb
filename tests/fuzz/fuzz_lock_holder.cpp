// Input: the text of locks/writer. Parsing never throws or crashes on any text; a holder whose
// fields are single words, written back in the layout lock_for_writing uses, parses identically.
#include <sstream>

#include "store/repo/repository.h"
#include "tests/fuzz/fuzz_check.h"

using namespace strata;

namespace {
bool single_word(const std::string& s) {
    if (s.empty()) return false;
    std::istringstream in(s);
    std::string w;
    in >> w;
    return w == s;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    std::optional<LockHolder> h = parse_lock_holder(text);
    FUZZ_REQUIRE(h.has_value() == !text.empty(), "a holder exactly when the file has text");
    if (!h || !single_word(h->host) || !single_word(h->purpose)) return 0;
    std::ostringstream out;
    out << "pid " << h->pid << "\nhost " << h->host << "\nsince " << h->since << "\npurpose "
        << h->purpose << "\n";
    std::optional<LockHolder> again = parse_lock_holder(out.str());
    FUZZ_REQUIRE(again && again->pid == h->pid && again->host == h->host &&
                     again->since == h->since && again->purpose == h->purpose,
                 "lock holder round trip");
    return 0;
}
