#include "readers/process/debuginfod.h"

#include <elfutils/debuginfod.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "readers/process/elf_file.h"

int ch_debuginfod_enabled(void)
{
	const char *urls = getenv("DEBUGINFOD_URLS");
	return urls && urls[strspn(urls, " \t")] != '\0';
}

struct ch_error *ch_debuginfod_fetch(const uint8_t *id, size_t len, char **path)
{
	*path = NULL;
	char hex[129];
	if (len == 0 || len > 64)
		return ch_error_new(CH_ERR_NOT_FOUND, "debuginfod: no build-id to ask for");
	ch_build_id_hex(id, len, hex);
	debuginfod_client *client = debuginfod_begin();
	if (!client)
		return ch_error_new(CH_ERR_NOT_FOUND, "debuginfod: cannot start a client");
	int fd = debuginfod_find_debuginfo(client, id, (int)len, path);
	debuginfod_end(client);
	if (fd < 0) {
		free(*path);
		*path = NULL;
		return ch_error_new(CH_ERR_NOT_FOUND, "debuginfod (DEBUGINFOD_URLS=%s) has no debug info for build-id %s: %s",
				    getenv("DEBUGINFOD_URLS"), hex, strerror(-fd));
	}
	close(fd);
	if (!*path)
		return ch_error_new(CH_ERR_NOT_FOUND, "debuginfod returned build-id %s without a file name", hex);
	return NULL;
}
