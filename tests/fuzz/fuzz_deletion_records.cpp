// Input: one byte choosing the decoder (deletion record, keep record, writer marker), then the
// object's text. A malformed deletion or keep record is Corruption naming the object, never
// another exception or a crash; a writer marker never throws. A deletion record written back with
// deletion_record_text parses to the same host, snapshots and packs.
#include "store/base/errors.h"
#include "store/repo/pending_deletion.h"
#include "store/repo/writer_marker.h"
#include "tests/fuzz/fuzz_check.h"

using namespace strata;

namespace {
const std::string kName = "deletions/record";

void deletion_record(const std::string& text) {
    DeletionRecord r;
    try {
        r = parse_deletion_record(kName, text);
    } catch (const StoreError& e) {
        FUZZ_REQUIRE(e.kind() == StoreError::Kind::Corruption, "a bad record is Corruption");
        FUZZ_REQUIRE(std::string(e.what()).find(kName) != std::string::npos,
                     "the error names the record");
        return;
    }
    DeletionRecord again =
        parse_deletion_record(kName, deletion_record_text(r.host, r.snapshots, r.packs));
    FUZZ_REQUIRE(again.host == r.host && again.snapshots == r.snapshots &&
                     again.packs.size() == r.packs.size(),
                 "deletion record round trip");
    for (std::size_t i = 0; i < r.packs.size(); ++i)
        FUZZ_REQUIRE(
            again.packs[i].pack == r.packs[i].pack && again.packs[i].since == r.packs[i].since,
            "deletion record round trip (packs)");
}

void keep_record(const std::string& text) {
    try {
        parse_keep_record(kName + ".keep-0", text);
    } catch (const StoreError& e) {
        FUZZ_REQUIRE(e.kind() == StoreError::Kind::Corruption, "a bad keep record is Corruption");
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 3) {
        case 0:
            deletion_record(text);
            break;
        case 1:
            keep_record(text);
            break;
        default: {
            WriterAnnouncement w;
            parse_writer_marker(text, w);
            break;
        }
    }
    return 0;
}
