/*
 * nats-xs XS host: the natives behind "embedded:storage/files" (tools/xs/modules/files.js), the
 * files module of Moddable SDK 8.2.3 as its posix version behaves on lin: a handle class over a
 * file descriptor (pread/pwrite at explicit positions, fstat, ftruncate, fsync) and directory
 * operations relative to one root folder, `$NATS_XS_DEVICE_DIR/files` (created when missing), or
 * a fresh temporary folder removed at exit when the variable is unset. Every path is checked as
 * the SDK checks it: relative, no "." or ".." part, no empty part, so nothing outside the root is
 * reachable. Errors throw with strerror's text, as the SDK's xsUnknownError(strerror(errno)) does.
 */
#define _GNU_SOURCE
#include "host.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int gxRootFD = -1;
static char gxTemporary[256] = "";

typedef struct {
	int fd;
} FileRecord;

#define throwIf(result) do { if ((result) < 0) xsUnknownError("%s", strerror(errno)); } while (0)

static int removeEntry(const char* path, const struct stat* s, int flag, struct FTW* ftw)
{
	return remove(path);
}

static void removeTemporary(void)
{
	if (gxTemporary[0])
		nftw(gxTemporary, removeEntry, 16, FTW_DEPTH | FTW_PHYS);
}

static int rootFD(xsMachine* the)
{
	char root[1024];
	const char* dir;
	if (gxRootFD >= 0)
		return gxRootFD;
	dir = getenv("NATS_XS_DEVICE_DIR");
	if (dir && *dir) {
		char* p;
		if ((snprintf(root, sizeof(root), "%s", dir) >= (int)sizeof(root)))
			xsUnknownError("NATS_XS_DEVICE_DIR too long");
		/* made with its parents, as host-sim makes it */
		for (p = root + 1; ; p++) {
			if ((*p == '/') || !*p) {
				char c = *p;
				*p = 0;
				if ((mkdir(root, 0777) < 0) && (errno != EEXIST))
					xsUnknownError("%s: %s", root, strerror(errno));
				*p = c;
				if (!c)
					break;
			}
		}
	}
	else {
		snprintf(gxTemporary, sizeof(gxTemporary), "/tmp/nats-xs-device-XXXXXX");
		if (!mkdtemp(gxTemporary))
			xsUnknownError("%s", strerror(errno));
		atexit(removeTemporary);
		snprintf(root, sizeof(root), "%s", gxTemporary);
	}
	if ((strlen(root) + 7) >= sizeof(root))
		xsUnknownError("NATS_XS_DEVICE_DIR too long");
	strcat(root, "/files");
	if ((mkdir(root, 0777) < 0) && (errno != EEXIST))
		xsUnknownError("%s: %s", root, strerror(errno));
	gxRootFD = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	throwIf(gxRootFD);
	return gxRootFD;
}

/* The path in `slot`, checked as files-posix.c checks it; "" is the root itself ("."). The
   string is copied: XS strings move when the collector compacts. */
static void getPath(xsMachine* the, xsSlot* slot, char* path, size_t size)
{
	const char* p;
	size_t length;
	int start = 1, dots = 0;
	xsToStringBuffer(*slot, path, (xsIntegerValue)size);
	length = strlen(path);
	if ((length + 1) >= size)
		xsUnknownError("path too long");
	if (!length) {
		strcpy(path, ".");
		return;
	}
	for (p = path; ; p++) {
		char c = *p;
		if ((c == '/') || !c) {
			if (start || ((dots == 1) || (dots == 2)))
				xsUnknownError("bad path");
			if (!c)
				return;
			start = 1;
			dots = 0;
		}
		else if (c == '.') {
			if (dots >= 0)
				dots++;
			start = 0;
		}
		else {
			start = 0;
			dots = -1;
		}
	}
}

static void fileDestructor(void* data)
{
	FileRecord* f = data;
	if (f) {
		if (f->fd >= 0)
			close(f->fd);
		free(f);
	}
}

static FileRecord* getFile(xsMachine* the)
{
	FileRecord* f = hostGetData(the, &xsThis, fileDestructor, "File");
	if (!f || (f->fd < 0))
		xsUnknownError("closed");
	return f;
}

/* new FileHandle(path, mode): mode "r" (default), "r+", "w", "w+"; "r" and "r+" need the file. */
static void xs_file_constructor(xsMachine* the)
{
	char path[1024], mode[4] = "r";
	int flags, root = rootFD(the), argc = xsToInteger(xsArgc);
	struct stat s;
	FileRecord* f;
	getPath(the, &xsArg(0), path, sizeof(path));
	if ((argc > 1) && (xsTypeOf(xsArg(1)) != xsUndefinedType))
		xsToStringBuffer(xsArg(1), mode, sizeof(mode));
	if (!strcmp(mode, "r"))
		flags = O_RDONLY;
	else if (!strcmp(mode, "r+"))
		flags = O_RDWR;
	else if (!strcmp(mode, "w"))
		flags = O_WRONLY | O_CREAT | O_TRUNC;
	else if (!strcmp(mode, "w+"))
		flags = O_RDWR | O_CREAT | O_TRUNC;
	else
		xsUnknownError("invalid mode");
	if (fstatat(root, path, &s, AT_SYMLINK_NOFOLLOW) < 0) {
		if (!(flags & O_CREAT))
			xsUnknownError("%s", strerror(errno));
	}
	else if (!S_ISREG(s.st_mode))
		xsUnknownError("not file");
	f = malloc(sizeof(FileRecord));
	if (!f)
		xsUnknownError("no memory");
	f->fd = openat(root, path, flags | O_CLOEXEC | O_NOFOLLOW, 0666);
	if (f->fd < 0) {
		int error = errno;
		free(f);
		xsUnknownError("%s", strerror(error));
	}
	xsSetHostData(xsThis, f);
}

/* read(count, position) -> ArrayBuffer (shorter at the end); read(buffer, position) -> count. */
static void xs_file_read(xsMachine* the)
{
	FileRecord* f = getFile(the);
	int position = xsToInteger(xsArg(1)), length, type = xsTypeOf(xsArg(0));
	uint8_t* data;
	ssize_t result;
	if (position < 0)
		xsRangeError("negative position");
	if ((type == xsIntegerType) || (type == xsNumberType)) {
		length = xsToInteger(xsArg(0));
		if (length < 0)
			xsRangeError("negative count");
		xsResult = xsArrayBuffer(NULL, length);
		data = xsToArrayBuffer(xsResult);
		result = pread(f->fd, data, (size_t)length, position);
		throwIf(result);
		if (result != length)
			xsSetArrayBufferLength(xsResult, (xsIntegerValue)result);
		return;
	}
	if (!hostGetBuffer(the, &xsArg(0), &data, &length, 1))
		xsTypeError("read into an ArrayBuffer or a byte view");
	result = pread(f->fd, data, (size_t)length, position);
	throwIf(result);
	xsResult = xsInteger((xsIntegerValue)result);
}

static void xs_file_write(xsMachine* the)
{
	FileRecord* f = getFile(the);
	int position = xsToInteger(xsArg(1)), length, done = 0;
	uint8_t* data;
	if (position < 0)
		xsRangeError("negative position");
	if (!hostGetBuffer(the, &xsArg(0), &data, &length, 0))
		xsTypeError("write an ArrayBuffer or a byte view");
	while (done < length) {
		ssize_t result = pwrite(f->fd, data + done, (size_t)(length - done), position + done);
		throwIf(result);
		done += (int)result;
	}
}

static void xs_file_size(xsMachine* the)
{
	struct stat s;
	throwIf(fstat(getFile(the)->fd, &s));
	xsResult = xsNumber((double)s.st_size);
}

static void xs_file_mode(xsMachine* the)
{
	struct stat s;
	throwIf(fstat(getFile(the)->fd, &s));
	xsResult = xsInteger((xsIntegerValue)s.st_mode);
}

static void xs_file_setSize(xsMachine* the)
{
	FileRecord* f = getFile(the);
	int length = xsToInteger(xsArg(0));
	if (length < 0)
		xsRangeError("negative size");
	throwIf(ftruncate(f->fd, length));
}

static void xs_file_flush(xsMachine* the)
{
	throwIf(fsync(getFile(the)->fd));
}

static void xs_file_close(xsMachine* the)
{
	FileRecord* f = hostGetData(the, &xsThis, fileDestructor, "File");
	if (f && (f->fd >= 0)) {
		close(f->fd);
		f->fd = -1;
	}
}

/* filesDelete(path): true when something was deleted, false when nothing was there. */
static void xs_files_delete(xsMachine* the)
{
	char path[1024];
	struct stat s;
	int root = rootFD(the);
	getPath(the, &xsArg(0), path, sizeof(path));
	if (fstatat(root, path, &s, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT) {
			xsResult = xsFalse;
			return;
		}
		throwIf(-1);
	}
	throwIf(unlinkat(root, path, S_ISDIR(s.st_mode) ? AT_REMOVEDIR : 0));
	xsResult = xsTrue;
}

static void xs_files_move(xsMachine* the)
{
	char from[1024], to[1024];
	int root = rootFD(the);
	getPath(the, &xsArg(0), from, sizeof(from));
	getPath(the, &xsArg(1), to, sizeof(to));
	throwIf(renameat(root, from, root, to));
}

/* filesStatus(path) -> [size, mode], mode 0 when nothing is there. */
static void xs_files_status(xsMachine* the)
{
	char path[1024];
	struct stat s;
	int root = rootFD(the);
	getPath(the, &xsArg(0), path, sizeof(path));
	xsResult = xsNewArray(2);
	if (fstatat(root, path, &s, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			throwIf(-1);
		xsSetAt(xsResult, xsInteger(0), xsUndefined);
		xsSetAt(xsResult, xsInteger(1), xsInteger(0));
		return;
	}
	xsSetAt(xsResult, xsInteger(0), xsNumber((double)s.st_size));
	xsSetAt(xsResult, xsInteger(1), xsInteger((xsIntegerValue)s.st_mode));
}

/* filesCreateDirectory(path): true when made, false when it was there already. */
static void xs_files_createDirectory(xsMachine* the)
{
	char path[1024];
	struct stat s;
	int root = rootFD(the);
	getPath(the, &xsArg(0), path, sizeof(path));
	if (mkdirat(root, path, 0777) < 0) {
		if ((errno == EEXIST) && !fstatat(root, path, &s, 0) && S_ISDIR(s.st_mode)) {
			xsResult = xsFalse;
			return;
		}
		throwIf(-1);
	}
	xsResult = xsTrue;
}

/* filesScan(path) -> the names in the directory ("." and ".." left out). */
static void xs_files_scan(xsMachine* the)
{
	char path[1024];
	int root = rootFD(the), fd, count = 0;
	DIR* dir;
	struct dirent* e;
	getPath(the, &xsArg(0), path, sizeof(path));
	fd = openat(root, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	throwIf(fd);
	dir = fdopendir(fd);
	if (!dir) {
		int error = errno;
		close(fd);
		xsUnknownError("%s", strerror(error));
	}
	xsVars(1);
	xsResult = xsNewArray(0);
	while ((e = readdir(dir))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		xsVar(0) = xsString(e->d_name);
		xsSetAt(xsResult, xsInteger(count++), xsVar(0));
	}
	closedir(dir);
}

void filesBuild(xsMachine* the, xsSlot* host, xsSlot* prototype)
{
	*prototype = xsNewHostObject(fileDestructor);
	hostDefineFunction(the, prototype, "read", xs_file_read, 2, xsDontEnum);
	hostDefineFunction(the, prototype, "write", xs_file_write, 2, xsDontEnum);
	hostDefineFunction(the, prototype, "size", xs_file_size, 0, xsDontEnum);
	hostDefineFunction(the, prototype, "mode", xs_file_mode, 0, xsDontEnum);
	hostDefineFunction(the, prototype, "setSize", xs_file_setSize, 1, xsDontEnum);
	hostDefineFunction(the, prototype, "flush", xs_file_flush, 0, xsDontEnum);
	hostDefineFunction(the, prototype, "close", xs_file_close, 0, xsDontEnum);
	hostDefineClass(the, host, "FileHandle", xs_file_constructor, 2, prototype);
	hostDefineFunction(the, host, "filesDelete", xs_files_delete, 1, xsDontEnum);
	hostDefineFunction(the, host, "filesMove", xs_files_move, 2, xsDontEnum);
	hostDefineFunction(the, host, "filesStatus", xs_files_status, 1, xsDontEnum);
	hostDefineFunction(the, host, "filesCreateDirectory", xs_files_createDirectory, 1, xsDontEnum);
	hostDefineFunction(the, host, "filesScan", xs_files_scan, 1, xsDontEnum);
}
