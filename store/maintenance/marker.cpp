#include "store/maintenance/marker.h"

#include <vector>

namespace strata::pruning {

void Marker::mark(const Snapshot& s) {
    std::vector<BlobId> stack{s.rec.root};
    while (!stack.empty()) {
        BlobId tree = stack.back();
        stack.pop_back();
        if (!used.insert(tree).second) continue;
        std::vector<TreeEntry> entries;
        try {
            entries = repo_.load_tree(tree);
        } catch (const StoreError& e) {
            throw StoreError(e.kind(), "snapshot " + s.id.short_hex() + ": " + e.what());
        }
        trees++;
        for (const auto& e : entries) {
            if (e.type == EntryType::Dir) stack.push_back(e.subtree);
            for (const auto& c : e.chunks) used.insert(c.id);
        }
        if (opts_.on_progress && throttle_.due()) report();
    }
    done++;
    if (opts_.on_progress) report();
}

void Marker::report() {
    PruneProgress p{"mark", done, total, trees};
    opts_.on_progress(p);
}

}  // namespace strata::pruning
