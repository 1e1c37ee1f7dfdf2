/* Parser benchmark driver for GMime 3 (Debian's libgmime-3.0-dev): the same "full" workload as
 * parse_tilskudd (every leaf transfer-decoded, text/* converted to UTF-8), the same output.
 *
 *   parse_gmime [--repeat N] [--check] [--fs] FILE...
 *
 * Default: each file is read into memory before the clock starts and parsed from a memory
 * stream that borrows the bytes (no copy). --fs: each file is parsed from a GMimeStreamFs with
 * GMime's persistent stream (part content stays in the file; the read is timed), the mode that
 * keeps memory low. */
#include <fcntl.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* VmHWM of this process (getrusage's ru_maxrss would carry the parent's peak over exec). */
static long max_rss_kb(void) {
  FILE* f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "VmHWM:", 6) == 0) kb = atol(line + 6);
  if (f) fclose(f);
  return kb;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct {
  long leaves, nontext, text;
} Totals;

static void count_message(GMimeMessage* msg, Totals* t) {
  GMimePartIter* iter = g_mime_part_iter_new((GMimeObject*)msg);
  if (g_mime_part_iter_is_valid(iter)) {
    do {
      GMimeObject* obj = g_mime_part_iter_get_current(iter);
      if (GMIME_IS_MULTIPART(obj) || GMIME_IS_MESSAGE_PART(obj)) continue;
      if (!GMIME_IS_PART(obj)) continue;
      t->leaves++;
      GMimeContentType* ct = g_mime_object_get_content_type(obj);
      if (GMIME_IS_TEXT_PART(obj) || (ct && g_mime_content_type_is_type(ct, "text", "*"))) {
        char* s = GMIME_IS_TEXT_PART(obj) ? g_mime_text_part_get_text((GMimeTextPart*)obj) : NULL;
        if (s) {
          for (const char* p = s; *p; ++p) t->text += *p != '\r';
          g_free(s);
        }
      } else {
        GMimeDataWrapper* w = g_mime_part_get_content((GMimePart*)obj);
        if (w) {
          GMimeStream* out = g_mime_stream_null_new();
          ssize_t n = g_mime_data_wrapper_write_to_stream(w, out);
          if (n > 0) t->nontext += (long)n;
          g_object_unref(out);
        }
      }
    } while (g_mime_part_iter_next(iter));
  }
  g_mime_part_iter_free(iter);
}

static GMimeMessage* parse_stream(GMimeStream* stream, int persist) {
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  g_mime_parser_set_persist_stream(parser, persist);
  GMimeMessage* msg = g_mime_parser_construct_message(parser, NULL);
  g_object_unref(parser);
  return msg;
}

int main(int argc, char** argv) {
  int repeat = 1, check = 0, fs = 0;
  int nfiles = 0;
  const char** files = calloc((size_t)argc, sizeof *files);
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
      repeat = atoi(argv[++i]);
    else if (strcmp(argv[i], "--check") == 0)
      check = 1;
    else if (strcmp(argv[i], "--fs") == 0)
      fs = 1;
    else
      files[nfiles++] = argv[i];
  }
  g_mime_init();
  GByteArray** data = calloc((size_t)nfiles + 1, sizeof *data);
  long bytes = 0;
  for (int i = 0; i < nfiles; ++i) {
    if (fs) { /* not loaded: the parser reads the file */
      struct stat st;
      if (stat(files[i], &st) != 0) {
        fprintf(stderr, "cannot stat %s\n", files[i]);
        return 1;
      }
      bytes += (long)st.st_size;
      continue;
    }
    gchar* buf = NULL;
    gsize len = 0;
    if (!g_file_get_contents(files[i], &buf, &len, NULL)) {
      fprintf(stderr, "cannot read %s\n", files[i]);
      return 1;
    }
    bytes += (long)len;
    data[i] = g_byte_array_new_take((guint8*)buf, len);
  }
  long rss_loaded = max_rss_kb();
  Totals all = {0, 0, 0};
  double t0 = now();
  for (int r = 0; r < repeat; ++r) {
    for (int i = 0; i < nfiles; ++i) {
      GMimeStream* stream;
      if (fs) {
        int fd = open(files[i], O_RDONLY);
        stream = g_mime_stream_fs_new(fd);
      } else {
        stream = g_mime_stream_mem_new_with_byte_array(data[i]);
        g_mime_stream_mem_set_owner((GMimeStreamMem*)stream, FALSE);
      }
      GMimeMessage* msg = parse_stream(stream, fs);
      Totals t = {0, 0, 0};
      if (msg) {
        count_message(msg, &t);
        g_object_unref(msg);
      }
      g_object_unref(stream);
      if (r == 0) {
        all.leaves += t.leaves;
        all.nontext += t.nontext;
        all.text += t.text;
        if (check) printf("%s %ld %ld %ld\n", files[i], t.leaves, t.nontext, t.text);
      }
    }
  }
  double s = now() - t0;
  printf(
      "{\"parser\": \"gmime%s\", \"messages\": %d, \"bytes\": %ld, \"repeat\": %d, "
      "\"seconds\": %.6f, \"leaves\": %ld, \"nontext_bytes\": %ld, \"text_bytes\": %ld, "
      "\"max_rss_kb\": %ld, \"rss_after_load_kb\": %ld}\n",
      fs ? "-fs" : "", nfiles, bytes, repeat, s, all.leaves, all.nontext, all.text, max_rss_kb(),
      rss_loaded);
  return 0;
}
