#include "tests/testlib/pack_builder.h"

namespace strata {

void PackBuilder::add(const BlobId& id, format::BlobType type, format::Codec codec,
                      ByteView stored, std::uint32_t raw_size) {
    entries_.push_back({id, type, codec, data_.size(), static_cast<std::uint32_t>(stored.size()),
                        raw_size});
    data_.insert(data_.end(), stored.begin(), stored.end());
}

Bytes PackBuilder::finish(BlobId& pack_id) {
    Bytes trailer = encode_pack_trailer(entries_);
    data_.insert(data_.end(), trailer.begin(), trailer.end());
    pack_id = sha256(data_);
    Bytes footer = encode_pack_footer(static_cast<std::uint32_t>(trailer.size()), pack_id);
    data_.insert(data_.end(), footer.begin(), footer.end());
    entries_.clear();
    return std::move(data_);
}

}  // namespace strata
