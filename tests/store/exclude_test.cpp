#include "store/ingest/exclude.h"

#include <gtest/gtest.h>

#include "tests/store/store_test_support.h"
#include "tests/testlib/temp_dir.h"

namespace strata {
namespace {

// The source root of these examples is /home/alice; `rel` is relative to it.
constexpr const char* kRoot = "/home/alice";

ExcludeMatcher matcher(std::initializer_list<const char*> patterns) {
    ExcludeMatcher m;
    for (const char* p : patterns) m.add(p);
    return m;
}

bool excluded(const ExcludeMatcher& m, const std::string& rel, bool is_dir = false) {
    return m.excluded(rel, std::string(kRoot) + "/" + rel, is_dir);
}

TEST(Exclude, NameMatchesAtAnyDepth) {
    auto m = matcher({"*.o", "node_modules"});
    EXPECT_TRUE(excluded(m, "a.o"));
    EXPECT_TRUE(excluded(m, "src/deep/er/b.o"));
    EXPECT_FALSE(excluded(m, "a.oo"));
    EXPECT_FALSE(excluded(m, "a.o.txt"));
    EXPECT_FALSE(excluded(m, "src.o/file")) << "only the entry's own name is matched";
    EXPECT_TRUE(excluded(m, "node_modules", true));
    EXPECT_TRUE(excluded(m, "web/app/node_modules", true));
    EXPECT_TRUE(excluded(m, "web/node_modules", false)) << "without a trailing '/', files match too";
    EXPECT_FALSE(excluded(m, "node_modules2", true));
}

TEST(Exclude, PatternWithSlashIsAnchored) {
    auto m = matcher({"build/tmp", "docs/*.bak"});
    EXPECT_TRUE(excluded(m, "build/tmp", true));
    EXPECT_FALSE(excluded(m, "src/build/tmp", true));
    EXPECT_FALSE(excluded(m, "tmp", true));
    EXPECT_TRUE(excluded(m, "docs/a.bak"));
    EXPECT_FALSE(excluded(m, "docs/sub/a.bak")) << "'*' does not cross '/'";
    EXPECT_FALSE(excluded(m, "x/docs/a.bak"));
}

TEST(Exclude, LeadingSlashAnchorsAtTheRootOrTheAbsolutePath) {
    auto m = matcher({"/top", "/home/alice/.cache"});
    EXPECT_TRUE(excluded(m, "top", true));
    EXPECT_FALSE(excluded(m, "sub/top", true));
    EXPECT_TRUE(excluded(m, ".cache", true)) << "the absolute source path matches";
    EXPECT_FALSE(excluded(m, "other/.cache", true));
    EXPECT_FALSE(m.excluded(".cache", "/home/bob/.cache", true));
}

TEST(Exclude, TrailingSlashMatchesDirectoriesOnly) {
    auto m = matcher({"cache/", "logs/old/"});
    EXPECT_TRUE(excluded(m, "cache", true));
    EXPECT_TRUE(excluded(m, "a/b/cache", true));
    EXPECT_FALSE(excluded(m, "cache", false));
    EXPECT_FALSE(excluded(m, "a/cache", false));
    EXPECT_TRUE(excluded(m, "logs/old", true));
    EXPECT_FALSE(excluded(m, "logs/old", false));
}

TEST(Exclude, DoubleStarMatchesAnyNumberOfComponents) {
    auto m = matcher({"**/tmp/*.log", "a/**/z", "data/**"});
    EXPECT_TRUE(excluded(m, "tmp/x.log"));
    EXPECT_TRUE(excluded(m, "p/q/r/tmp/x.log"));
    EXPECT_FALSE(excluded(m, "tmp/sub/x.log"));
    EXPECT_TRUE(excluded(m, "a/z"));
    EXPECT_TRUE(excluded(m, "a/b/c/d/z"));
    EXPECT_FALSE(excluded(m, "b/a/z"));
    EXPECT_TRUE(excluded(m, "data/x"));
    EXPECT_TRUE(excluded(m, "data/x/y/z"));
}

TEST(Exclude, CharacterClassesAndQuestionMark) {
    auto m = matcher({"file?.txt", "[ab]*.tmp"});
    EXPECT_TRUE(excluded(m, "file1.txt"));
    EXPECT_FALSE(excluded(m, "file10.txt"));
    EXPECT_TRUE(excluded(m, "a1.tmp"));
    EXPECT_TRUE(excluded(m, "dir/b.tmp"));
    EXPECT_FALSE(excluded(m, "c.tmp"));
}

TEST(Exclude, NegationReincludesAndTheLastMatchWins) {
    auto m = matcher({"*.o", "!keep.o"});
    EXPECT_TRUE(excluded(m, "a.o"));
    EXPECT_FALSE(excluded(m, "keep.o"));
    EXPECT_FALSE(excluded(m, "sub/keep.o"));
    auto reversed = matcher({"!keep.o", "*.o"});
    EXPECT_TRUE(excluded(reversed, "keep.o")) << "a later exclude overrides an earlier re-include";
    auto only_negation = matcher({"!x"});
    EXPECT_FALSE(excluded(only_negation, "x"));
    EXPECT_FALSE(excluded(only_negation, "y"));
}

TEST(Exclude, EmptyMatcherExcludesNothingAndBlankLinesAreIgnored) {
    ExcludeMatcher m;
    EXPECT_TRUE(m.empty());
    EXPECT_FALSE(excluded(m, "anything"));
    m.add("");
    m.add("# a comment");
    m.add("   ");
    EXPECT_TRUE(m.empty());
    EXPECT_FALSE(excluded(m, "# a comment"));
}

TEST(Exclude, PatternsFromAFile) {
    testing::TempDir dir;
    testing::write_file(dir / "excludes", "# caches\n*.tmp\r\n\n/home/alice/secret\n!important.tmp\nbuild/\n");
    ExcludeMatcher m;
    m.add_file(dir / "excludes");
    EXPECT_TRUE(excluded(m, "x.tmp")) << "CRLF line endings are accepted";
    EXPECT_FALSE(excluded(m, "important.tmp"));
    EXPECT_TRUE(excluded(m, "secret", true));
    EXPECT_TRUE(excluded(m, "src/build", true));
    EXPECT_FALSE(excluded(m, "src/build", false));
    std::string msg = expect_store_error([&] { m.add_file(dir / "missing"); }, StoreError::Kind::Io);
    EXPECT_NE(msg.find(dir / "missing"), std::string::npos) << msg;
}

}  // namespace
}  // namespace strata
