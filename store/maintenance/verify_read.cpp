#include "store/maintenance/verify_read.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>

#include "store/base/errors.h"
#include "store/format/compress.h"
#include "store/format/pack.h"

namespace strata {
namespace {

// A stretch of a pack read in one go, with the blobs that lie wholly inside it.
struct Piece {
    std::uint64_t offset = 0, length = 0;
    std::vector<std::size_t> blobs;  // indices into PackToCheck::blobs
    bool hashed = true;              // part of the sequential pass that computes the checksum
};

struct PackInFlight {
    std::size_t index = 0;
    PackToCheck pack;
    PackFindings findings;
    bool submitted = false;  // every piece is read; used by the reading thread only
    std::size_t pieces_left =
        0;  // handed to workers, not finished; guarded by the pipeline's mutex
};

struct Unit {
    PackInFlight* pack;
    Piece piece;
    Bytes bytes;
};

// Splits [0, size) into pieces of about kReadDataGroupBytes at blob boundaries, each blob in the
// piece that holds it whole. A blob that overlaps an earlier one (only a crafted index or trailer
// does that) is read on its own, outside the sequential pass; one past the end is not read.
std::vector<Piece> plan_pieces(const PackToCheck& pack, std::uint64_t size,
                               PackFindings& findings) {
    std::vector<std::size_t> order(pack.blobs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return pack.blobs[a].offset < pack.blobs[b].offset;
    });
    std::vector<Piece> pieces, strays;
    Piece cur;  // [cur.offset, ...) with blobs ending at `end`
    std::uint64_t end = 0;
    // Closes the current piece at `at` and covers [at, to) with blob-free pieces.
    auto close = [&](std::uint64_t at, std::uint64_t to) {
        cur.length = at - cur.offset;
        if (cur.length > 0 || !cur.blobs.empty()) pieces.push_back(std::move(cur));
        for (std::uint64_t p = at; p < to;) {
            const std::uint64_t n = std::min<std::uint64_t>(kReadDataGroupBytes, to - p);
            pieces.push_back({p, n, {}, true});
            p += n;
        }
        cur = Piece{};
        cur.offset = to;
    };
    for (std::size_t i : order) {
        const BlobToCheck& b = pack.blobs[i];
        if (b.offset > size || b.stored_size > size - b.offset) {
            findings.blob_problems[i] = "it lies past the end of the pack";
            continue;
        }
        if (b.offset < end || b.offset < cur.offset) {
            strays.push_back({b.offset, b.stored_size, {i}, false});
            continue;
        }
        if (!cur.blobs.empty() && b.offset + b.stored_size - cur.offset > kReadDataGroupBytes)
            close(end, b.offset);
        else if (cur.blobs.empty() && b.offset - cur.offset > kReadDataGroupBytes)
            close(cur.offset, b.offset);  // a long stretch without blobs before this one
        cur.blobs.push_back(i);
        end = b.offset + b.stored_size;
    }
    close(std::max(end, cur.offset), size);
    for (auto& s : strays) pieces.push_back(std::move(s));
    return pieces;
}

std::string blob_problem(const BlobCodec& codec, const BlobToCheck& b, ByteView stored) {
    try {
        codec.open(b.id, b.type, b.codec, b.raw_size, stored);
    } catch (const std::exception& e) {  // StoreError for damage; bad_alloc for absurd sizes
        return e.what();
    }
    return "";
}

// Worker threads checking the blobs of pieces, and the bookkeeping the reading thread waits on.
class BlobCheckers {
  public:
    BlobCheckers(const BlobCodec& codec, unsigned count) : codec_(codec) {
        for (unsigned i = 0; i < count; ++i) threads_.emplace_back([this] { work(); });
    }
    ~BlobCheckers() {
        {
            std::lock_guard lk(mu_);
            stopping_ = true;
            queue_.clear();
        }
        work_cv_.notify_all();
        for (auto& t : threads_) t.join();
    }

    void submit(PackInFlight& pack, Piece piece, Bytes bytes) {
        {
            std::lock_guard lk(mu_);
            pack.pieces_left++;
            held_ += bytes.size();
            queue_.push_back({&pack, std::move(piece), std::move(bytes)});
        }
        work_cv_.notify_one();
    }
    // Blocks until `more` bytes fit in the budget, or nothing is held (a piece larger than the
    // budget is read alone).
    void wait_for_room(std::uint64_t more) {
        std::unique_lock lk(mu_);
        done_cv_.wait(lk, [&] { return held_ == 0 || held_ + more <= kReadDataBytesInFlight; });
    }
    bool finished(const PackInFlight& pack) {
        std::lock_guard lk(mu_);
        return pack.submitted && pack.pieces_left == 0;
    }
    void wait_finished(const PackInFlight& pack) {
        std::unique_lock lk(mu_);
        done_cv_.wait(lk, [&] { return pack.pieces_left == 0; });
    }

  private:
    void work() {
        for (;;) {
            Unit u;
            {
                std::unique_lock lk(mu_);
                work_cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
                if (queue_.empty()) return;
                u = std::move(queue_.front());
                queue_.pop_front();
            }
            // Each blob index belongs to one piece only, so no two workers write the same slot.
            for (std::size_t i : u.piece.blobs) {
                const BlobToCheck& b = u.pack->pack.blobs[i];
                ByteView stored =
                    ByteView(u.bytes).subspan(b.offset - u.piece.offset, b.stored_size);
                u.pack->findings.blob_problems[i] = blob_problem(codec_, b, stored);
            }
            const std::size_t n = u.bytes.size();
            u.bytes = Bytes();
            {
                std::lock_guard lk(mu_);
                held_ -= n;
                u.pack->pieces_left--;
            }
            done_cv_.notify_all();
        }
    }

    const BlobCodec& codec_;
    std::mutex mu_;
    std::condition_variable work_cv_, done_cv_;
    std::deque<Unit> queue_;
    std::uint64_t held_ = 0;  // bytes read and not yet checked
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

// Reads `pack` piece by piece, computing its checksum on the way, and hands the pieces holding
// blobs to the checkers.
void read_pack(ObjectStore& objects, const BlobCodec& codec, PackInFlight& p,
               BlobCheckers& checkers) {
    const PackToCheck& pack = p.pack;
    PackFindings& f = p.findings;
    f.blob_problems.assign(pack.blobs.size(), "");
    std::uint64_t size = pack.listed_size.value_or(0);
    try {
        if (!pack.listed_size) size = objects.size(pack.name);
    } catch (const StoreError& e) {
        if (e.kind() != StoreError::Kind::NotFound) throw;
        f.missing = true;
        return;
    }
    const bool has_footer = size >= format::kPackFooterSize;
    const std::uint64_t body = has_footer ? size - format::kPackFooterSize : 0;
    Sha256Stream hash;
    Bytes footer;
    for (Piece& piece : plan_pieces(pack, size, f)) {
        checkers.wait_for_room(piece.length);
        Bytes bytes;
        try {
            bytes = objects.read(pack.name, piece.offset, static_cast<std::size_t>(piece.length));
        } catch (const StoreError& e) {
            if (e.kind() == StoreError::Kind::NotFound) {  // pruned while we read it
                f.missing = true;  // workers may still fill blob_problems; it is ignored then
                return;
            }
            if (e.kind() != StoreError::Kind::Corruption) throw;
            // Shrunk while we read it: what was not read is reported as not readable.
            for (std::size_t i : piece.blobs) f.blob_problems[i] = e.what();
            if (piece.hashed && pack.check_checksum && f.checksum_problem.empty())
                f.checksum_problem = e.what();
            continue;
        }
        f.bytes += bytes.size();
        if (piece.hashed) {
            const std::uint64_t hashed_end = std::min(piece.offset + piece.length, body);
            if (hashed_end > piece.offset)
                hash.update(ByteView(bytes).subspan(0, hashed_end - piece.offset));
            if (piece.offset + piece.length > body) {
                const std::uint64_t from = std::max(piece.offset, body);
                ByteView tail = ByteView(bytes).subspan(from - piece.offset);
                footer.insert(footer.end(), tail.begin(), tail.end());
            }
        }
        if (!piece.blobs.empty()) checkers.submit(p, std::move(piece), std::move(bytes));
    }
    if (!pack.check_checksum || !f.checksum_problem.empty()) return;
    if (!has_footer) {
        f.checksum_problem = "too short to be a pack";
        return;
    }
    try {
        PackFooter footer_fields = decode_pack_footer(footer);
        BlobId actual = hash.finish();
        if (actual != footer_fields.checksum || pack_id_from_name(pack.name) != actual)
            throw_corruption("the content does not match the pack's checksum (damaged)");
        // The checksum does not cover the footer's trailer length; the trailer must be where it
        // says. Its bytes were just read, so this costs no disk access.
        if (footer_fields.trailer_size > body)
            throw_corruption("the footer's trailer length points before the start of the pack");
        const std::uint64_t data_end = body - footer_fields.trailer_size;
        open_pack_trailer(codec, objects.read(pack.name, data_end, footer_fields.trailer_size),
                          size);
    } catch (const StoreError& e) {
        f.checksum_problem = e.what();
    }
}

}  // namespace

void check_packs_read_data(
    ObjectStore& objects, const BlobCodec& codec, std::size_t count,
    const std::function<PackToCheck(std::size_t)>& describe,
    const std::function<void(std::size_t, const PackToCheck&, const PackFindings&)>& on_checked,
    unsigned workers) {
    if (workers == 0) workers = std::max(1u, std::thread::hardware_concurrency());
    // Declared before the checkers, so that on an exception the workers stop before the packs
    // they may still be reading from go away.
    std::deque<std::unique_ptr<PackInFlight>> in_flight;
    BlobCheckers checkers(codec, workers);
    auto deliver = [&](bool wait) {
        while (!in_flight.empty()) {
            PackInFlight& front = *in_flight.front();
            if (wait)
                checkers.wait_finished(front);
            else if (!checkers.finished(front))
                return;
            std::unique_ptr<PackInFlight> done = std::move(in_flight.front());
            in_flight.pop_front();
            on_checked(done->index, done->pack, done->findings);
        }
    };
    for (std::size_t i = 0; i < count; ++i) {
        auto p = std::make_unique<PackInFlight>();
        p->index = i;
        p->pack = describe(i);
        PackInFlight& ref = *p;
        in_flight.push_back(std::move(p));
        read_pack(objects, codec, ref, checkers);
        ref.submitted = true;  // only this thread reads it
        deliver(false);
    }
    deliver(true);
}

}  // namespace strata
