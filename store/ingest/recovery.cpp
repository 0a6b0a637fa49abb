#include "store/ingest/recovery.h"

#include <unordered_set>

#include "store/format/format.h"
#include "store/format/pack.h"
#include "store/repo/pending_deletion.h"

namespace strata {

std::size_t adopt_unindexed_packs(Repository& repo) {
    // A remote repository's writer lock has just refreshed the cache, and that refresh indexed
    // every listed pack that no deletion record retires: nothing is left to adopt.
    if (repo.index_is_cache()) return 0;
    std::unordered_set<BlobId, BlobIdHash> known;
    for (const auto& p : repo.index().packs()) known.insert(p.id);
    for (const auto& p : load_pending_deletions(repo.objects())) known.insert(p.pack);
    std::size_t adopted = 0;
    for (const auto& object : repo.objects().list(format::kPackDir)) {
        auto id = pack_id_from_name(object.name);
        if (!id || known.count(*id)) continue;
        try {
            repo.index().add_pack(
                *id, object.size,
                read_pack_trailer(repo.objects(), repo.codec(), object.name, object.size));
            adopted++;
        } catch (const StoreError& e) {
            if (e.kind() != StoreError::Kind::Corruption && e.kind() != StoreError::Kind::NotFound)
                throw;
        }
    }
    return adopted;
}

}  // namespace strata
