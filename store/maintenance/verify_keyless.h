// Verify without the key (`strata verify --without-password`): what a host that holds an
// encrypted repository's storage, but not its password, can check (docs/maintenance.md,
// "Verify without the password"):
//   - the config's clear header, and that at least one key object of this repository is sound
//     (named by its SHA-256, decodes, names this repository);
//   - every pack: its name, its footer, that the footer's checksum is its name, and that the
//     sealed trailer has the length and envelope version sealing gives; with read_data, that the
//     SHA-256 of its content is its name (a flipped or lost byte anywhere in it is found);
//   - every snapshot record, index object and forget record: its name, and a length that sealing
//     can give (a truncation is found, a flipped byte inside is not: that needs the key).
// Blobs, trees and the records' content are sealed: which snapshots and paths damage reaches is
// known only to a verify with the password. Takes no lock, reads nothing but the objects.
//
// Threads: one thread per call.
#pragma once

#include <string>

#include "store/backend/object_store.h"
#include "store/maintenance/verify.h"

namespace strata {

// Checks the repository whose objects are `objects`, named `location` in messages. Its config
// must be encrypted (format 2); a plain one is verified whole by verify(), which needs no key.
// read_data All reads every pack, Slice the packs of one slice; Percent reads a random share
// (there is no index to say which packs were verified longest ago). Findings use VerifyProblem's
// kinds plus key-object and sealed-object; affected_known is false.
VerifyReport verify_without_keys(ObjectStore& objects, const std::string& location,
                                 const VerifyOptions& opts);

}  // namespace strata
