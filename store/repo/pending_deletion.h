// Pack files prune took out of use, waiting for their grace period to end before they are
// deleted (docs/maintenance.md, "Pending deletions"; docs/repository-format.md, "Deletion").
//
// Every prune records what it retires in a deletion record of its own, `deletions/<id>`, written
// once and never changed: several hosts may prune and ingest at once, so no object is shared and
// mutated. A writer that finds it uses a retired pack after all (a backup on another host that was
// running while the prune planned) says so in a keep record, `deletions/<id>.keep-<random>`, which
// takes the pack off the list. A deletion record goes once none of its packs is left to delete,
// its keep records after it. Repositories written before deletion records kept one mutable list,
// `pending-deletion`; it is still read, and removed once empty.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/backend/object_store.h"
#include "store/base/hash.h"

namespace strata {

// A pack file retired by a prune and waiting for its grace period to end.
struct PendingDeletion {
    BlobId pack;
    std::int64_t since = 0;  // Unix seconds when prune retired it
    std::string record;      // the deletion record naming it (object name)
};

// One deletion record with what is left of it: the packs no keep record took back.
struct DeletionRecord {
    std::string name;               // deletions/<64 hex>, or the legacy list's name
    std::string host;               // who pruned ("" in the legacy list)
    std::vector<BlobId> snapshots;  // the snapshots that prune marked
    std::vector<PendingDeletion> packs;
    std::vector<std::string> keeps;  // names of its keep records
    std::vector<BlobId> kept;        // the packs they took back
};

// The text of a deletion record (record_deletion writes it), and its decoder, which also reads the
// legacy list (by its header); a malformed text throws Corruption naming `name`.
std::string deletion_record_text(const std::string& host, const std::vector<BlobId>& snapshots,
                                 const std::vector<PendingDeletion>& packs);
DeletionRecord parse_deletion_record(const std::string& name, const std::string& text);
// The packs a keep record takes back; a malformed text throws Corruption naming `name`.
std::vector<BlobId> parse_keep_record(const std::string& name, const std::string& text);

// Every deletion record in `objects` (and the legacy list, if there is one), with the packs its
// keep records took back left out. Throws Corruption naming the object if one is malformed.
std::vector<DeletionRecord> load_deletion_records(ObjectStore& objects);
// The packs of every deletion record, as one list (a pack may appear under several records).
std::vector<PendingDeletion> load_pending_deletions(ObjectStore& objects);

// Writes a new deletion record retiring `packs` (each with its `since`), made by `host` after
// marking `snapshots`; returns its name. Durable when it returns.
std::string record_deletion(ObjectStore& objects, const std::string& host,
                            const std::vector<BlobId>& snapshots,
                            const std::vector<PendingDeletion>& packs);
// Takes `packs` off the deletion record `record`: a snapshot uses them after all.
void record_kept(ObjectStore& objects, const std::string& record, const std::vector<BlobId>& packs);
// Removes a deletion record, then its keep records (in that order: a keep record must never be
// gone while its deletion record still retires the pack).
void remove_deletion_record(ObjectStore& objects, const DeletionRecord& record);

// Replaces every deletion record by one listing `list` (tests craft states with it).
void replace_pending_deletions(ObjectStore& objects, const std::vector<PendingDeletion>& list);

// Whether an entry of the pending-deletion list is past `grace_seconds` at `now` (Unix seconds):
// a prune run now would finish deleting it (or, if a killed prune left it indexed, retire it
// again). Reads the records without the writer lock; a malformed record throws Corruption.
bool pending_deletions_due(ObjectStore& objects, std::int64_t grace_seconds, std::int64_t now);

}  // namespace strata
