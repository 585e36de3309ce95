// Unit tests for lib/common/fd: ownership, I/O loops, atomic output.
#include "common/fd.hh"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/error.hh"

using namespace bencher;

TEST(UniqueFd, ClosesAndMoves) {
	int p[2];
	ASSERT_EQ(pipe(p), 0);
	{
		UniqueFd r(p[0]);
		UniqueFd moved = std::move(r);
		EXPECT_FALSE(r.valid());
		EXPECT_EQ(moved.get(), p[0]);
	}
	EXPECT_EQ(fcntl(p[0], F_GETFD), -1);  // closed
	UniqueFd w(p[1]);
	int raw = w.release();
	EXPECT_FALSE(w.valid());
	EXPECT_EQ(close(raw), 0);
}

TEST(Io, ReadAllBounded) {
	int p[2];
	ASSERT_EQ(pipe(p), 0);
	UniqueFd r(p[0]), w(p[1]);
	write_all(w.get(), "hello world", "pipe");
	w.reset();
	EXPECT_THROW(read_all(r.get(), 5, "pipe"), Error);
}

TEST(Io, RoundTrip) {
	TempDir dir("fd-test");
	std::string path = dir.path() + "/f";
	{
		UniqueFd fd = open_file(path, O_WRONLY | O_CREAT, 0600);
		std::string big(1 << 20, 'x');
		write_all(fd.get(), big, path);
	}
	EXPECT_EQ(read_file(path, 2 << 20).size(), size_t{1} << 20);
	EXPECT_THROW(read_file(path, 1000), Error);
}

TEST(AtomicFile, NothingLeftWithoutCommit) {
	TempDir dir("fd-test");
	std::string path = dir.path() + "/out";
	std::string tmp;
	{
		AtomicFile f(path, 0640);
		tmp = f.temp_path();
		write_all(f.fd(), "partial", "tmp");
		EXPECT_EQ(access(tmp.c_str(), F_OK), 0);
	}
	EXPECT_NE(access(tmp.c_str(), F_OK), 0);
	EXPECT_NE(access(path.c_str(), F_OK), 0);
	{
		AtomicFile f(path, 0640);
		write_all(f.fd(), "done", "tmp");
		f.commit();
	}
	EXPECT_EQ(read_file(path, 100), "done");
	struct stat st {};
	ASSERT_EQ(stat(path.c_str(), &st), 0);
	EXPECT_EQ(st.st_mode & 07777, 0640u);
}

TEST(AtomicFile, DevicesAreWrittenInPlaceNeverReplaced) {
	{
		AtomicFile f("/dev/null");
		EXPECT_EQ(f.temp_path(), "");
		write_all(f.fd(), "discarded", "/dev/null");
		f.commit();
	}
	struct stat st {};
	ASSERT_EQ(stat("/dev/null", &st), 0);
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	TempDir dir("fd-test");
	std::string fifo = dir.path() + "/fifo";
	ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
	UniqueFd reader = open_file(fifo, O_RDONLY | O_NONBLOCK);
	{
		AtomicFile f(fifo);
		write_all(f.fd(), "through", "fifo");
		f.commit();
	}
	char buf[16] = {};
	EXPECT_EQ(read(reader.get(), buf, sizeof buf), 7);
	ASSERT_EQ(lstat(fifo.c_str(), &st), 0);
	EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

TEST(AtomicFile, UnwritableDirectoryIsAnError) {
	EXPECT_THROW(AtomicFile("/nonexistent-dir/out"), Error);
}

TEST(TempDir, RemovedWithContents) {
	std::string path;
	{
		TempDir dir("fd-test");
		path = dir.path();
		ASSERT_EQ(mkdir((path + "/a").c_str(), 0700), 0);
		UniqueFd fd = open_file(path + "/a/b", O_WRONLY | O_CREAT, 0600);
		ASSERT_EQ(symlink("/etc/passwd", (path + "/a/link").c_str()), 0);
	}
	EXPECT_NE(access(path.c_str(), F_OK), 0);
	EXPECT_EQ(access("/etc/passwd", F_OK), 0);  // symlink target untouched
}

TEST(RemoveTree, DeepTreesSymlinksToDirectoriesAndPlainFiles) {
	TempDir outside("fd-test");
	ASSERT_EQ(mkdir((outside.path() + "/keep").c_str(), 0700), 0);
	UniqueFd kept = open_file(outside.path() + "/keep/file", O_WRONLY | O_CREAT, 0600);
	TempDir dir("fd-test");
	std::string deep = dir.path();
	for (int i = 0; i < 40; i++) {
		deep += "/d";
		ASSERT_EQ(mkdir(deep.c_str(), 0700), 0);
	}
	UniqueFd f = open_file(deep + "/f", O_WRONLY | O_CREAT, 0000);
	ASSERT_EQ(symlink((outside.path() + "/keep").c_str(), (dir.path() + "/d/to-dir").c_str()), 0);
	remove_tree(dir.path());
	EXPECT_NE(access(dir.path().c_str(), F_OK), 0);
	EXPECT_EQ(access((outside.path() + "/keep/file").c_str(), F_OK), 0);  // not followed
	// A plain file, a symlink to a directory and a missing path are names to remove.
	UniqueFd g = open_file(outside.path() + "/plain", O_WRONLY | O_CREAT, 0600);
	remove_tree(outside.path() + "/plain");
	EXPECT_NE(access((outside.path() + "/plain").c_str(), F_OK), 0);
	ASSERT_EQ(symlink((outside.path() + "/keep").c_str(), (outside.path() + "/link").c_str()), 0);
	remove_tree(outside.path() + "/link");
	EXPECT_EQ(access((outside.path() + "/keep/file").c_str(), F_OK), 0);
	remove_tree(outside.path() + "/missing");
}

TEST(Mapping, AnonymousIsZeroedAndUnmapped) {
	Mapping m = Mapping::anonymous(1 << 16, "test");
	ASSERT_NE(m.data(), nullptr);
	EXPECT_EQ(m.bytes()[1000], 0);
	m.bytes()[0] = 1;
	Mapping n = std::move(m);
	EXPECT_EQ(m.data(), nullptr);
	EXPECT_EQ(n.bytes()[0], 1);
}

TEST(ScopeGuard, RunsUnlessDismissed) {
	int runs = 0;
	{
		ScopeGuard g([&] { runs++; });
	}
	{
		ScopeGuard g([&] { runs++; });
		g.dismiss();
	}
	EXPECT_EQ(runs, 1);
}
