#include "store/repo/writer_marker.h"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "store/base/hash.h"
#include "store/base/host_name.h"
#include "store/format/format.h"

namespace strata {
namespace {

constexpr const char* kMarkerHeader = "strata writer 1";

std::int64_t steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

WriterMarker::WriterMarker(ObjectStore& objects, const std::string& purpose)
    : objects_(objects), name_(std::string(format::kWriterDir) + "/" + random_hex(16)) {
    std::ostringstream head;
    head << kMarkerHeader << "\nhost " << host_name() << "\npid " << ::getpid() << "\npurpose "
         << purpose << "\n";
    text_head_ = head.str();
    write();
    thread_ = std::thread([this] { heartbeat(); });
}

WriterMarker::~WriterMarker() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
    try {
        objects_.remove(name_);
    } catch (const StoreError& e) {
        std::cerr << "strata: could not remove " << name_ << " (" << e.what()
                  << "); it expires by itself\n";
    }
}

void WriterMarker::set_known(const std::vector<std::string>& deletion_records) {
    {
        std::lock_guard lock(mu_);
        knows_ = deletion_records;
    }
    write();
}

double WriterMarker::seconds_since_written() const {
    return static_cast<double>(steady_ns() - last_written_ns_.load()) / 1e9;
}

void WriterMarker::write() {
    std::string text;
    {
        std::lock_guard lock(mu_);
        text = text_head_;
        for (const auto& k : knows_) text += "knows " + k + "\n";
    }
    const std::int64_t started = steady_ns();
    objects_.put(name_, as_bytes(text));
    last_written_ns_ = started;
}

void WriterMarker::heartbeat() {
    std::unique_lock lock(mu_);
    while (!wake_.wait_for(lock, std::chrono::seconds(kWriterHeartbeatSeconds),
                           [this] { return stopping_; })) {
        lock.unlock();
        try {
            write();
        } catch (const StoreError& e) {
            // The next beat tries again; a writer whose marker went stale stops before it
            // saves a snapshot (Repository::save_snapshot).
            std::cerr << "strata: could not rewrite " << name_ << ": " << e.what() << "\n";
        }
        lock.lock();
    }
}

std::vector<WriterAnnouncement> list_writers(ObjectStore& objects) {
    std::vector<WriterAnnouncement> out;
    for (const auto& object : objects.list(format::kWriterDir)) {
        WriterAnnouncement w;
        w.name = object.name;
        w.written = object.mtime;
        Bytes data;
        try {
            data = objects.read_all(object.name);
        } catch (const StoreError& e) {
            if (e.kind() == StoreError::Kind::NotFound) continue;  // ended meanwhile
            throw;
        }
        parse_writer_marker(std::string(data.begin(), data.end()), w);
        out.push_back(std::move(w));
    }
    return out;
}

void parse_writer_marker(const std::string& text, WriterAnnouncement& w) {
    std::istringstream in(text);
    std::string line;
    if (!std::getline(in, line) || line != kMarkerHeader) return;
    while (std::getline(in, line)) {
        auto space = line.find(' ');
        std::string key = line.substr(0, space),
                    value = space == std::string::npos ? "" : line.substr(space + 1);
        if (key == "host") w.host = value;
        if (key == "purpose") w.purpose = value;
        if (key == "pid") std::from_chars(value.data(), value.data() + value.size(), w.pid);
        if (key == "knows") w.knows.push_back(value);
    }
}

std::int64_t writer_expiry_seconds() {
    if (const char* test = std::getenv("STRATA_TEST_WRITER_EXPIRY_SECONDS"))
        return std::atoll(test);
    return kWriterExpirySeconds;
}

}  // namespace strata
