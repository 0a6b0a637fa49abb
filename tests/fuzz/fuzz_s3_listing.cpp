// Input: an answer from an object store to ListObjectsV2, or an error body (what a hostile or
// broken store or proxy may send). Parsing never crashes or hangs: a page either parses, every
// entry with a key, or is refused as Corruption; an error body is found or not.
#include "store/backend/s3/s3_xml.h"
#include "store/base/errors.h"
#include "tests/fuzz/fuzz_check.h"

using namespace strata;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view xml(reinterpret_cast<const char*>(data), size);
    try {
        s3::ListPage page = s3::parse_list_page(xml);
        FUZZ_REQUIRE(!page.truncated || !page.next_token.empty(),
                     "a truncated page names where to go on");
    } catch (const StoreError& e) {
        FUZZ_REQUIRE(e.kind() == StoreError::Kind::Corruption, "only Corruption for bad listings");
    }
    (void)s3::parse_error_body(xml);
    return 0;
}
