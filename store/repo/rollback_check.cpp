#include "store/repo/rollback_check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <fstream>

#include "store/base/bytes.h"
#include "store/base/errors.h"
#include "store/base/host_name.h"
#include "store/base/utc_time.h"
#include "store/format/format.h"
#include "store/format/object_names.h"

namespace strata {

Bytes encode_forget_record(const ForgetRecord& r) {
    Encoder e;
    e.raw(std::string_view(format::kForgetRecordMagic, 8));
    e.u32(static_cast<std::uint32_t>(r.snapshots.size()));
    for (const auto& id : r.snapshots) e.raw(id.bytes);
    e.i64(r.time);
    e.str(r.host);
    return e.take();
}

ForgetRecord decode_forget_record(ByteView data) {
    Decoder d(data, "forget record");
    if (std::memcmp(d.raw(8).data(), format::kForgetRecordMagic, 8) != 0) d.fail("bad magic");
    ForgetRecord r;
    const std::uint32_t n = d.u32();
    if (n > d.remaining() / 32) d.fail("count larger than the record");
    for (std::uint32_t i = 0; i < n; ++i) r.snapshots.push_back(BlobId::from_bytes(d.raw(32)));
    r.time = d.i64();
    r.host = d.str();
    d.expect_done();
    return r;
}

void write_forget_record(ObjectStore& objects, const BlobCodec& codec,
                         const std::vector<BlobId>& snapshots) {
    if (snapshots.empty()) return;
    ForgetRecord r{snapshots, static_cast<std::int64_t>(std::time(nullptr)), host_name()};
    auto sealed = codec.seal_object(crypto::ObjectKind::ForgetRecord, encode_forget_record(r));
    objects.put(forget_record_name(sealed.id), sealed.stored);
}

namespace {

std::set<BlobId> read_state(const std::string& file) {
    std::set<BlobId> out;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line))
        if (auto id = BlobId::from_hex(line)) out.insert(*id);
    return out;
}

// Replaces the state file whole (a temporary file renamed over it); best effort: a host that
// cannot write its cache only loses the check.
void write_state(const std::string& file, const std::set<BlobId>& ids) {
    const std::string dir = file.substr(0, file.rfind('/'));
    const std::string parent = dir.substr(0, dir.rfind('/'));
    ::mkdir(parent.c_str(), 0700);
    ::mkdir(dir.c_str(), 0700);
    const std::string tmp = file + ".tmp." + std::to_string(::getpid());
    {
        std::ofstream out(tmp, std::ios::trunc);
        if (!out) return;
        for (const auto& id : ids) out << id.hex() << "\n";
        if (!out.flush()) {
            ::unlink(tmp.c_str());
            return;
        }
    }
    ::chmod(tmp.c_str(), 0600);
    if (::rename(tmp.c_str(), file.c_str()) != 0) ::unlink(tmp.c_str());
}

}  // namespace

std::vector<std::string> RollbackCheck::check(const std::set<BlobId>& listed, ObjectStore& objects,
                                              const BlobCodec& codec, const std::string& location) {
    if (file_.empty()) return {};
    if (!loaded_) {
        saved_ = read_state(file_);
        loaded_ = true;
    }
    std::set<BlobId> vanished;
    for (const auto& id : saved_)
        if (!listed.count(id)) vanished.insert(id);
    std::vector<std::string> warnings;
    if (!vanished.empty()) {
        for (const auto& object : objects.list(format::kForgottenDir)) {
            auto id = forget_record_id_from_name(object.name);
            if (!id) continue;
            try {
                const ForgetRecord r = decode_forget_record(codec.open_object(
                    crypto::ObjectKind::ForgetRecord, *id, objects.read_all(object.name)));
                for (const auto& s : r.snapshots) vanished.erase(s);
            } catch (const StoreError& e) {
                if (e.kind() == StoreError::Kind::NotFound) continue;
                if (e.kind() != StoreError::Kind::Corruption) throw;
                warnings.push_back("warning: " + location + "/" + object.name +
                                   " is damaged or forged: " + e.what());
            }
            if (vanished.empty()) break;
        }
        for (const auto& id : vanished)
            if (told_.insert(id).second)
                warnings.push_back(
                    "WARNING: snapshot " + id.short_hex() + ", which this host saw in " + location +
                    ", is gone without a forget: the repository may have been rolled back to an "
                    "older state, or its snapshot record deleted, by whoever holds its storage. "
                    "Check where it is stored; once you have, remove " +
                    file_ + " to accept the repository as it is");
    }
    std::set<BlobId> now = listed;
    now.insert(vanished.begin(), vanished.end());  // told again until accepted
    if (now != saved_) {
        write_state(file_, now);
        saved_ = std::move(now);
    }
    return warnings;
}

}  // namespace strata
