// Input: a tree blob (decompressed). A tree that decodes must satisfy decode_tree's contract
// (valid names, strictly ascending, chunks ascending and within the file's size) and survive an
// encode/decode round trip unchanged.
#include "store/format/tree.h"
#include "tests/fuzz/fuzz_check.h"

using namespace strata;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<TreeEntry> entries;
    try {
        entries = decode_tree(ByteView(data, size));
    } catch (const StoreError& e) {
        FUZZ_REQUIRE(e.kind() == StoreError::Kind::Corruption, "tree rejected as corruption");
        return 0;
    }
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const TreeEntry& t = entries[i];
        FUZZ_REQUIRE(valid_entry_name(t.name), "accepted name is valid");
        if (i > 0) FUZZ_REQUIRE(entries[i - 1].name < t.name, "accepted names strictly ascending");
        std::uint64_t end = 0;
        for (const auto& c : t.chunks) {
            FUZZ_REQUIRE(c.offset >= end, "accepted chunks ascending and non-overlapping");
            FUZZ_REQUIRE(c.offset <= t.size && c.size <= t.size - c.offset,
                         "accepted chunk within the file size");
            end = c.offset + c.size;
        }
    }
    Bytes once = encode_tree(entries);
    std::vector<TreeEntry> again;
    try {
        again = decode_tree(once);
    } catch (const StoreError&) {
        FUZZ_REQUIRE(false, "a decoded tree re-encodes to something decode_tree accepts");
    }
    FUZZ_REQUIRE(encode_tree(again) == once, "tree encode/decode round trip is stable");
    return 0;
}
