/* inject_tab.c — what the injection analyser knows about each language:
 * sinks (calls whose argument must not be built from untrusted data),
 * sources of user input, sanitisers, string builders and keywords. */
#include <stdio.h>
#include <pthread.h>
#include <string.h>

#include "scan/inject_int.h"

#define L(x) (1 << (x))
#define ALL 0xffff
#define CFAM (L(LANG_C) | L(LANG_ANY))
#define JAVA (L(LANG_JAVA) | L(LANG_ANY))
#define JS (L(LANG_JS) | L(LANG_ANY))
#define PY (L(LANG_PY) | L(LANG_ANY))
#define GO (L(LANG_GO) | L(LANG_ANY))
#define RB (L(LANG_RUBY) | L(LANG_ANY))
#define PHP (L(LANG_PHP) | L(LANG_ANY))
#define SH (L(LANG_SH) | L(LANG_ANY))
#define LUA (L(LANG_LUA) | L(LANG_ANY))

static const char M_SQL[] = "SQL query built from non-literal data reaches a query call; use bound parameters";
static const char M_SHELL[] = "shell command built from non-literal data; pass an argument list without a shell";
static const char M_ARGV[] = "shell invoked with a command built from non-literal data";
static const char M_CODE[] = "code evaluated from a non-literal string";
static const char M_PATH[] = "file path taken from request input without a containment check (path traversal)";
static const char M_HTML[] = "HTML written from non-literal data without escaping (XSS)";

/* name = callee (last part of the called path); a name starting with '.'
 * matches that dotted path suffix instead (".os.system"), one starting with
 * '^' a path prefix ("^sh." for Python's sh module). */
static const sink_def sinks[] = {
    /* SQL */
    {"execute", K_SQL, ALL, M_SQL, 0}, {"executemany", K_SQL, ALL, M_SQL, 0},
    {"executescript", K_SQL, ALL, M_SQL, 0}, {"executeQuery", K_SQL, ALL, M_SQL, 0},
    {"executeUpdate", K_SQL, ALL, M_SQL, 0}, {"executeLargeUpdate", K_SQL, ALL, M_SQL, 0},
    {"addBatch", K_SQL, ALL, M_SQL, 0}, {"prepareStatement", K_SQL, ALL, M_SQL, 0},
    {"prepareCall", K_SQL, ALL, M_SQL, 0}, {"createQuery", K_SQL, ALL, M_SQL, 0},
    {"createNativeQuery", K_SQL, ALL, M_SQL, 0}, {"createSQLQuery", K_SQL, ALL, M_SQL, 0},
    {"query", K_SQL, ALL, M_SQL, 0}, {"queryForObject", K_SQL, ALL, M_SQL, 0},
    {"queryForList", K_SQL, ALL, M_SQL, 0}, {"queryForMap", K_SQL, ALL, M_SQL, 0},
    {"queryForRowSet", K_SQL, ALL, M_SQL, 0}, {"queryForLong", K_SQL, ALL, M_SQL, 0},
    {"queryForInt", K_SQL, ALL, M_SQL, 0}, {"batchUpdate", K_SQL, ALL, M_SQL, 0},
    {"update", K_SQL, JAVA, M_SQL, 0}, {"raw", K_SQL, PY | JS, M_SQL, 0}, {"extra", K_SQL, PY, M_SQL, 0},
    {"RawSQL", K_SQL, PY, M_SQL, 0}, {"exec", K_SQL, JS | GO, M_SQL, 0}, {"Exec", K_SQL, GO, M_SQL, 0},
    {"Query", K_SQL, GO, M_SQL, 0}, {"QueryRow", K_SQL, GO, M_SQL, 0}, {"QueryContext", K_SQL, GO, M_SQL, 0},
    {"ExecContext", K_SQL, GO, M_SQL, 0}, {"QueryRowContext", K_SQL, GO, M_SQL, 0},
    {"mysql_query", K_SQL, PHP, M_SQL, 0}, {"mysqli_query", K_SQL, PHP, M_SQL, 1},
    {"pg_query", K_SQL, PHP, M_SQL, 0}, {"sqlite3_exec", K_SQL, CFAM, M_SQL, 1},
    {"sqlite3_prepare", K_SQL, CFAM, M_SQL, 1}, {"sqlite3_prepare_v2", K_SQL, CFAM, M_SQL, 1},
    {"mysql_real_query", K_SQL, CFAM, M_SQL, 1}, {"PQexec", K_SQL, CFAM, M_SQL, 1},
    {"find_by_sql", K_SQL, RB, M_SQL, 0}, {"where", K_SQL, RB, M_SQL, 0},
    /* SQL clauses that take raw text (SQLAlchemy, Django) */
    {"text", K_SQL, PY, M_SQL, 0}, {"having", K_SQL, PY, M_SQL, 0}, {"group_by", K_SQL, PY, M_SQL, 0},
    {"order_by", K_SQL, PY, M_SQL, 0}, {"filter", K_SQL, PY, M_SQL, 0}, {"distinct", K_SQL, PY, M_SQL, 0},
    /* shell commands */
    {"system", K_SHELL, ALL, M_SHELL, 0}, {"popen", K_SHELL, ALL, M_SHELL, 0},
    {"_popen", K_SHELL, CFAM, M_SHELL, 0}, {"_wpopen", K_SHELL, CFAM, M_SHELL, 0},
    {"wpopen", K_SHELL, CFAM, M_SHELL, 0}, {"_wsystem", K_SHELL, CFAM, M_SHELL, 0},
    {"getoutput", K_SHELL, PY, M_SHELL, 0}, {"getstatusoutput", K_SHELL, PY, M_SHELL, 0},
    {"create_subprocess_shell", K_SHELL, PY, M_SHELL, 0},
    {"spawnl", K_SHELL_ARGV, PY, M_ARGV, 1}, {"spawnle", K_SHELL_ARGV, PY, M_ARGV, 1},
    {"spawnlp", K_SHELL_ARGV, PY, M_ARGV, 1}, {"spawnlpe", K_SHELL_ARGV, PY, M_ARGV, 1},
    {"spawnv", K_SHELL_ARGV, PY, M_ARGV, 1}, {"spawnve", K_SHELL_ARGV, PY, M_ARGV, 1},
    {"spawnvp", K_SHELL_ARGV, PY, M_ARGV, 1}, {"spawnvpe", K_SHELL_ARGV, PY, M_ARGV, 1},
    {"posix_spawn", K_SHELL_ARGV, PY, M_ARGV, 0}, {"posix_spawnp", K_SHELL_ARGV, PY, M_ARGV, 0},
    {".pty.spawn", K_SHELL, PY, M_SHELL, 0}, {"execSync", K_SHELL, JS, M_SHELL, 0},
    {"exec", K_SHELL, JAVA | PHP | RB, M_SHELL, 0}, {".child_process.exec", K_SHELL, JS, M_SHELL, 0},
    {"shell_exec", K_SHELL, PHP, M_SHELL, 0}, {"passthru", K_SHELL, PHP, M_SHELL, 0},
    {"proc_open", K_SHELL, PHP, M_SHELL, 0}, {".os.execute", K_SHELL, LUA, M_SHELL, 0},
    {".io.popen", K_SHELL, LUA, M_SHELL, 0}, {"capture2", K_SHELL, RB, M_SHELL, 0},
    {"capture3", K_SHELL, RB, M_SHELL, 0}, {"popen3", K_SHELL, RB, M_SHELL, 0},
    {"eval", K_SHELL, SH, M_SHELL, 0}, {"subprocess_shell", K_SHELL, PY, M_SHELL, 1},
    {"BashOperator", K_SHELL, PY, M_SHELL, 0}, {"^sh.", K_SHELL, PY, M_SHELL, 0},
    /* programs started with an argument list */
    {"call", K_SHELL_ARGV, PY, M_ARGV, 0}, {"run", K_SHELL_ARGV, PY, M_ARGV, 0},
    {"Popen", K_SHELL_ARGV, PY, M_ARGV, 0}, {"check_call", K_SHELL_ARGV, PY, M_ARGV, 0},
    {"check_output", K_SHELL_ARGV, PY, M_ARGV, 0}, {"create_subprocess_exec", K_SHELL_ARGV, PY, M_ARGV, 0},
    {"subprocess_exec", K_SHELL_ARGV, PY, M_ARGV, 1}, {"execl", K_SHELL_ARGV, PY, M_ARGV, 0},
    {"execlp", K_SHELL_ARGV, PY, M_ARGV, 0}, {"execv", K_SHELL_ARGV, PY, M_ARGV, 0},
    {"execvp", K_SHELL_ARGV, PY, M_ARGV, 0}, {"execve", K_SHELL_ARGV, PY, M_ARGV, 0},
    {"execl", K_SHELL_ARGV, CFAM, M_ARGV, 0}, {"execlp", K_SHELL_ARGV, CFAM, M_ARGV, 0},
    {"execle", K_SHELL_ARGV, CFAM, M_ARGV, 0}, {"execv", K_SHELL_ARGV, CFAM, M_ARGV, 0},
    {"execvp", K_SHELL_ARGV, CFAM, M_ARGV, 0}, {"execvpe", K_SHELL_ARGV, CFAM, M_ARGV, 0},
    {"execve", K_SHELL_ARGV, CFAM, M_ARGV, 0}, {"_execl", K_SHELL_ARGV, CFAM, M_ARGV, 0},
    {"_execv", K_SHELL_ARGV, CFAM, M_ARGV, 0}, {"_execvp", K_SHELL_ARGV, CFAM, M_ARGV, 0},
    {"_wexecl", K_SHELL_ARGV, CFAM, M_ARGV, 0}, {"_wexecv", K_SHELL_ARGV, CFAM, M_ARGV, 0},
    {"_wexecvp", K_SHELL_ARGV, CFAM, M_ARGV, 0}, {"_wexeclp", K_SHELL_ARGV, CFAM, M_ARGV, 0},
    {"_execlp", K_SHELL_ARGV, CFAM, M_ARGV, 0}, {"_spawnl", K_SHELL_ARGV, CFAM, M_ARGV, 1},
    {"_spawnlp", K_SHELL_ARGV, CFAM, M_ARGV, 1}, {"_spawnle", K_SHELL_ARGV, CFAM, M_ARGV, 1},
    {"_spawnv", K_SHELL_ARGV, CFAM, M_ARGV, 1}, {"_spawnvp", K_SHELL_ARGV, CFAM, M_ARGV, 1},
    {"_spawnve", K_SHELL_ARGV, CFAM, M_ARGV, 1}, {"_wspawnl", K_SHELL_ARGV, CFAM, M_ARGV, 1},
    {"_wspawnlp", K_SHELL_ARGV, CFAM, M_ARGV, 1}, {"_wspawnv", K_SHELL_ARGV, CFAM, M_ARGV, 1},
    {"_wspawnvp", K_SHELL_ARGV, CFAM, M_ARGV, 1}, {"_wexeclp", K_SHELL_ARGV, CFAM, M_ARGV, 0},
    {"posix_spawn", K_SHELL_ARGV, CFAM, M_ARGV, 0}, {"posix_spawnp", K_SHELL_ARGV, CFAM, M_ARGV, 0},
    {"CreateProcessA", K_SHELL, CFAM, M_SHELL, 0}, {"CreateProcessW", K_SHELL, CFAM, M_SHELL, 0},
    {"ShellExecuteA", K_SHELL, CFAM, M_SHELL, 0}, {"ShellExecuteW", K_SHELL, CFAM, M_SHELL, 0},
    {"ProcessBuilder", K_SHELL_ARGV, JAVA, M_ARGV, 0},
    {"command", K_SHELL_ARGV, JAVA, M_ARGV, 0}, {"execFile", K_SHELL_ARGV, JS, M_ARGV, 0},
    {"execFileSync", K_SHELL_ARGV, JS, M_ARGV, 0}, {"spawn", K_SHELL_ARGV, JS | PY, M_ARGV, 0},
    {"spawnSync", K_SHELL_ARGV, JS, M_ARGV, 0}, {"Command", K_SHELL_ARGV, GO, M_ARGV, 0},
    {"CommandContext", K_SHELL_ARGV, GO, M_ARGV, 0},
    /* code */
    {"eval", K_CODE, PY | JS | PHP | RB | LUA | JAVA, M_CODE, 0}, {"exec", K_CODE, PY, M_CODE, 0},
    {"compile", K_CODE, PY, M_CODE, 0}, {"execfile", K_CODE, PY, M_CODE, 0},
    {"Function", K_CODE, JS, M_CODE, 0}, {"setTimeout", K_CODE, JS, M_CODE, 0},
    {"setInterval", K_CODE, JS, M_CODE, 0}, {"runInContext", K_CODE, JS, M_CODE, 0},
    {"runInNewContext", K_CODE, JS, M_CODE, 0}, {"runInThisContext", K_CODE, JS, M_CODE, 0},
    {"compileFunction", K_CODE, JS, M_CODE, 0}, {"Script", K_CODE, JS, M_CODE, 0},
    {"VMScript", K_CODE, JS, M_CODE, 0}, {"run", K_CODE, JS, M_CODE, 0},
    {"assert", K_CODE, PHP, M_CODE, 0}, {"create_function", K_CODE, PHP, M_CODE, 0},
    {"instance_eval", K_CODE, RB, M_CODE, 0}, {"class_eval", K_CODE, RB, M_CODE, 0},
    {"module_eval", K_CODE, RB, M_CODE, 0}, {"loadstring", K_CODE, LUA, M_CODE, 0},
    {"load", K_CODE, LUA, M_CODE, 0}, {"dostring", K_CODE, LUA, M_CODE, 0},
    {"import_module", K_CODE, PY, M_CODE, 0}, {"__import__", K_CODE, PY, M_CODE, 0},
    /* paths */
    {"open", K_PATH, ALL, M_PATH, 0}, {"fopen", K_PATH, ALL, M_PATH, 0}, {"freopen", K_PATH, CFAM, M_PATH, 0},
    {"openat", K_PATH, CFAM, M_PATH, 1}, {"file_get_contents", K_PATH, PHP, M_PATH, 0},
    {"file_put_contents", K_PATH, PHP, M_PATH, 0}, {"readfile", K_PATH, PHP, M_PATH, 0},
    {"include", K_PATH, PHP, M_PATH, 0}, {"require", K_PATH, PHP, M_PATH, 0},
    {"include_once", K_PATH, PHP, M_PATH, 0}, {"require_once", K_PATH, PHP, M_PATH, 0},
    {"unlink", K_PATH, PHP | JS, M_PATH, 0}, {"readFile", K_PATH, JS, M_PATH, 0},
    {"readFileSync", K_PATH, JS, M_PATH, 0}, {"writeFile", K_PATH, JS, M_PATH, 0},
    {"writeFileSync", K_PATH, JS, M_PATH, 0}, {"createReadStream", K_PATH, JS, M_PATH, 0},
    {"createWriteStream", K_PATH, JS, M_PATH, 0}, {"appendFile", K_PATH, JS, M_PATH, 0},
    {"sendFile", K_PATH, JS, M_PATH, 0}, {"download", K_PATH, JS, M_PATH, 0},
    {"send_file", K_PATH, PY | RB, M_PATH, 0}, {"FileInputStream", K_PATH, JAVA, M_PATH, 0},
    {"FileOutputStream", K_PATH, JAVA, M_PATH, 0}, {"FileReader", K_PATH, JAVA, M_PATH, 0},
    {"FileWriter", K_PATH, JAVA, M_PATH, 0}, {"File", K_PATH, JAVA, M_PATH, 0},
    {"RandomAccessFile", K_PATH, JAVA, M_PATH, 0}, {"ReadFile", K_PATH, GO, M_PATH, 0},
    {"Open", K_PATH, GO, M_PATH, 0}, {"OpenFile", K_PATH, GO, M_PATH, 0}, {"ServeFile", K_PATH, GO, M_PATH, 0},
    {"ifstream", K_PATH, CFAM, M_PATH, 0}, {"ofstream", K_PATH, CFAM, M_PATH, 0},
    {"dofile", K_PATH, LUA, M_PATH, 0}, {"loadfile", K_PATH, LUA, M_PATH, 0},
    /* HTML */
    {"write", K_HTML, JS | JAVA | GO, M_HTML, 0}, {"writeln", K_HTML, JS, M_HTML, 0},
    {"insertAdjacentHTML", K_HTML, JS, M_HTML, 1}, {"html", K_HTML, JS, M_HTML, 0},
    {"append", K_HTML, JS, M_HTML, 0}, {"prepend", K_HTML, JS, M_HTML, 0},
    {"send", K_HTML, JS, M_HTML, 0}, {"end", K_HTML, JS, M_HTML, 0},
    {"Response", K_HTML, PY, M_HTML, 0}, {"HttpResponse", K_HTML, PY, M_HTML, 0},
    {"make_response", K_HTML, PY, M_HTML, 0}, {"HTMLResponse", K_HTML, PY, M_HTML, 0},
    {"render_template_string", K_HTML, PY, M_HTML, 0}, {"Markup", K_HTML, PY, M_HTML, 0},
    {"mark_safe", K_HTML, PY, M_HTML, 0}, {"SafeString", K_HTML, PY, M_HTML, 0},
    {"echo", K_HTML, PHP, M_HTML, 0}, {"print", K_HTML, PHP | JAVA, M_HTML, 0},
    {"println", K_HTML, JAVA, M_HTML, 0}, {"printf", K_HTML, PHP, M_HTML, 0},
    {"Fprintf", K_HTML, GO, M_HTML, 1}, {"HTML", K_HTML, GO, M_HTML, 0},
    {"html_safe", K_HTML, RB, M_HTML, 0}, {"raw", K_HTML, RB, M_HTML, 0},
    {"render", K_HTML, PY | JS, M_HTML, 0}, {"$", K_HTML, JS, M_HTML, 0}, {"jQuery", K_HTML, JS, M_HTML, 0},
    {"trustAsHtml", K_HTML_ASSIGN, JS, M_HTML, 0}, {"trustAsCss", K_HTML_ASSIGN, JS, M_HTML, 0},
    {"trustAsJs", K_HTML_ASSIGN, JS, M_HTML, 0}, {"trustAsUrl", K_HTML_ASSIGN, JS, M_HTML, 0},
    {"trustAsResourceUrl", K_HTML_ASSIGN, JS, M_HTML, 0}, {"trustAs", K_HTML_ASSIGN, JS, M_HTML, 1},
    {"HttpResponseBadRequest", K_HTML, PY, M_HTML, 0}, {"HttpResponseNotFound", K_HTML, PY, M_HTML, 0},
    {"HttpResponseForbidden", K_HTML, PY, M_HTML, 0}, {"HttpResponseServerError", K_HTML, PY, M_HTML, 0},
};


/* ---- name index ---------------------------------------------------------- */
/* Every name the tables know, hashed once, so the per-token questions (is it
 * a keyword, a sink, a sanitiser?) cost one probe instead of a table scan. */

enum { N_KEYWORD = 1, N_SINK = 2, N_SANITIZER = 4, N_BUILDER = 8, N_GUARD = 16, N_SOURCE = 32 };

#define NSLOTS 2048
static uint8_t source_first[256];        /* first bytes of the source paths */
static struct { const char *name; uint32_t h; uint8_t roles; } slots[NSLOTS];
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static uint32_t hash(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static void add_name(const char *name, int role) {
    if (name[0] == '.') name = strrchr(name, '.') + 1;        /* ".os.system" -> system */
    if (name[0] == '^') return;
    uint32_t h = hash(name);
    for (uint32_t i = h % NSLOTS;; i = (i + 1) % NSLOTS) {
        if (!slots[i].name) { slots[i].name = name; slots[i].h = h; slots[i].roles = (uint8_t)role; return; }
        if (!strcmp(slots[i].name, name)) { slots[i].roles |= (uint8_t)role; return; }
    }
}

static void build_index(void);

static int roles_of(const char *name) {
    pthread_once(&index_once, build_index);
    uint32_t h = hash(name);
    for (uint32_t i = h % NSLOTS; slots[i].name; i = (i + 1) % NSLOTS)
        if (slots[i].h == h && !strcmp(slots[i].name, name)) return slots[i].roles;
    return 0;
}

static int path_ends(const char *path, const char *suffix) {
    size_t a = strlen(path), b = strlen(suffix);
    if (a < b || strcmp(path + a - b, suffix)) return 0;
    return a == b || path[a - b - 1] == '.' || suffix[0] == '.';
}

int tab_sink(int lang, const char *callee, const char *path, const sink_def **out) {
    if (!(roles_of(callee) & N_SINK) && strncmp(path, "sh.", 3)) return 0;
    char dotted[160];
    snprintf(dotted, sizeof dotted, ".%s", path);
    int n = 0;
    for (size_t i = 0; i < sizeof sinks / sizeof sinks[0] && n < 4; i++) {
        const sink_def *s = &sinks[i];
        if (!(s->langs & L(lang))) continue;
        if (s->name[0] == '^' ? strncmp(path, s->name + 1, strlen(s->name + 1))
            : s->name[0] == '.' ? !path_ends(dotted, s->name) : strcmp(s->name, callee))
            continue;
        out[n++] = s;
    }
    return n;
}

int tab_mentions_sink(int lang, const char *word) {
    if (!(roles_of(word) & N_SINK)) return 0;
    if (streq(word, "innerHTML") || streq(word, "outerHTML")) return 1;
    for (size_t i = 0; i < sizeof sinks / sizeof sinks[0]; i++) {
        const char *n = sinks[i].name;
        if (n[0] == '.') n = strrchr(n, '.') + 1;
        if (n[0] == '^') continue;
        if ((sinks[i].langs & L(lang)) && streq(n, word)) return 1;
    }
    return 0;
}

/* Dotted paths (prefixes) whose values are user input. */
static const struct { const char *path; int langs; } sources[] = {
    {"request", PY | JS | JAVA | RB}, {"flask.request", PY}, {"self.request", PY}, {"req", JS},
    {"ctx.request", JS}, {"ctx.query", JS}, {"ctx.params", JS}, {"location", JS},
    {"window.location", JS}, {"document.location", JS}, {"document.URL", JS},
    {"document.referrer", JS}, {"document.cookie", JS}, {"process.argv", JS}, {"event.data", JS},
    {"sys.argv", PY}, {"os.environ", PY}, {"sys.stdin", PY}, {"argv", CFAM | PY},
    {"$_GET", PHP}, {"$_POST", PHP}, {"$_REQUEST", PHP}, {"$_COOKIE", PHP}, {"$_SERVER", PHP},
    {"$_FILES", PHP}, {"$_ENV", PHP}, {"params", RB}, {"ARGV", RB}, {"ENV", RB}, {"cookies", RB},
    {"os.Args", GO}, {"r.URL", GO}, {"r.Form", GO}, {"r.PostForm", GO}, {"r.Header", GO},
    {"r.Body", GO}, {"ngx.var", LUA}, {"ngx.req", LUA}, {"arg", LUA},
    {"$1", SH}, {"$2", SH}, {"$3", SH}, {"$@", SH}, {"$*", SH}, {"${1}", SH},
};

/* Calls that return user input. */
static const struct { const char *name; int langs; } source_calls[] = {
    {"getParameter", JAVA}, {"getParameterValues", JAVA}, {"getParameterMap", JAVA},
    {"getParameterNames", JAVA}, {"getHeader", JAVA}, {"getHeaders", JAVA},
    {"getHeaderNames", JAVA}, {"getCookies", JAVA}, {"getQueryString", JAVA},
    {"getInputStream", JAVA}, {"getReader", JAVA}, {"getRequestURI", JAVA},
    {"getPathInfo", JAVA}, {"getenv", ALL}, {"input", PY}, {"raw_input", PY}, {"getpass", PY},
    {"gets", CFAM | RB}, {"FormValue", GO}, {"PostFormValue", GO}, {"Getenv", GO},
    {"Vars", GO}, {"URLParam", GO}, {"Query", GO}, {"Param", GO}, {"PostForm", GO},
    {"GetHeader", GO}, {"read", LUA}, {"readline", JS},
};

int tab_source(int lang, const char *path, int is_call) {
    if (is_call) {
        const char *callee = strrchr(path, '.');
        callee = callee ? callee + 1 : path;
        if (roles_of(callee) & N_SOURCE)
        for (size_t i = 0; i < sizeof source_calls / sizeof source_calls[0]; i++)
            if ((source_calls[i].langs & L(lang)) && streq(callee, source_calls[i].name)) {
                if (lang == LANG_GO && (streq(callee, "Query") || streq(callee, "Param")) &&
                    !strstr(path, "URL") && path[0] != 'c')
                    continue;
                return 1;
            }
    }
    pthread_once(&index_once, build_index);
    if (!source_first[(uint8_t)path[0]]) return 0;
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
        if (!(sources[i].langs & L(lang))) continue;
        size_t n = strlen(sources[i].path);
        if (!strncmp(path, sources[i].path, n) && (path[n] == 0 || path[n] == '.' || path[n] == '['))
            return 1;
    }
    return 0;
}

static const struct { const char *name; int mask; } sanitizers[] = {
    {"escape", C_HTML}, {"escape_html", C_HTML}, {"escapeHtml", C_HTML}, {"escapeHTML", C_HTML},
    {"htmlspecialchars", C_HTML}, {"htmlentities", C_HTML}, {"encodeForHTML", C_HTML},
    {"encodeForHTMLAttribute", C_HTML}, {"escapeHtml4", C_HTML}, {"escapeXml", C_HTML},
    {"sanitize", C_HTML}, {"clean", C_HTML}, {"html_escape", C_HTML}, {"h", C_HTML},
    {"strip_tags", C_HTML}, {"encodeURIComponent", C_HTML | C_PATH}, {"format_html", C_HTML},
    {"render_template", C_HTML}, {"render_to_string", C_HTML},
    {"quote", C_SHELL}, {"escapeshellarg", C_SHELL}, {"escapeshellcmd", C_SHELL},
    {"shellescape", C_SHELL}, {"encodeForOS", C_SHELL},
    {"mysqli_real_escape_string", C_SQL}, {"mysql_real_escape_string", C_SQL},
    {"real_escape_string", C_SQL}, {"escape_string", C_SQL}, {"encodeForSQL", C_SQL},
    {"basename", C_PATH}, {"secure_filename", C_PATH}, {"Base", C_PATH},
    {"int", C_ALL}, {"float", C_ALL}, {"bool", C_ALL}, {"len", C_ALL}, {"parseInt", C_ALL},
    {"parseFloat", C_ALL}, {"Number", C_ALL}, {"intval", C_ALL}, {"floatval", C_ALL},
    {"parseLong", C_ALL}, {"atoi", C_ALL}, {"atol", C_ALL}, {"strtol", C_ALL},
    {"strtoul", C_ALL}, {"Atoi", C_ALL}, {"ParseInt", C_ALL}, {"to_i", C_ALL}, {"tonumber", C_ALL},
    {"hashCode", C_ALL}, {"length", C_ALL}, {"size", C_ALL}, {"count", C_ALL}, {"isdigit", C_ALL},
    {"isalnum", C_ALL}, {"equals", C_ALL}, {"startsWith", C_ALL}, {"endsWith", C_ALL},
    {"contains", C_ALL}, {"indexOf", C_ALL}, {"isEmpty", C_ALL}, {"exists", C_ALL},
    {"existsSync", C_ALL}, {"strlen", C_ALL}, {"strcmp", C_ALL}, {"uuid4", C_ALL},
};

int tab_sanitizer(int lang, const char *callee) {
    if (!(roles_of(callee) & N_SANITIZER)) return 0;
    for (size_t i = 0; i < sizeof sanitizers / sizeof sanitizers[0]; i++)
        if (streq(callee, sanitizers[i].name)) return sanitizers[i].mask;
    return 0;
}

/* Library methods known to return a fixed value whatever their input: the
 * OWASP Benchmark's SeparateClassRequest.getTheValue ("a safe source"). */
int tab_constant(const char *callee) { return streq(callee, "getTheValue"); }

/* Checks that vouch for a value when they guard a branch: containment or
 * character tests for paths, membership in an allow-list for anything. */
static const char *const guard_path[] = {"startsWith", "startswith", "HasPrefix", "hasPrefix",
                                         "strstr", "strchr", "indexOf", "includes", "contains",
                                         "realpath", "is_relative_to", "commonpath", NULL};
static const char *const guard_all[] = {"in_array", "array_key_exists", "has_key", "containsKey",
                                        "hasOwnProperty", "isin", "isValid", "is_valid", "isSafe",
                                        "is_safe", "isAllowed", "is_allowed", "allowed", NULL};

int tab_guard(const char *callee) {
    if (!(roles_of(callee) & N_GUARD)) return 0;
    for (int i = 0; guard_all[i]; i++)
        if (streq(callee, guard_all[i])) return C_ALL;
    return C_PATH;
}

/* Calls that build a string from their arguments (or their receiver). */
static const char *const builders[] = {
    "format", "join", "concat", "append", "insert", "sprintf", "snprintf", "Sprintf", "Sprint",
    "Sprintln", "vsprintf", "swprintf", "strcat", "strncat", "wcscat", "wcsncat", "strcpy",
    "strncpy", "wcscpy", "wcsncpy", "implode", "replace", "replaceAll", "toString", "String",
    "str", "trim", "strip", "lower", "upper", "toLowerCase", "toUpperCase", "substring", "substr",
    "slice", "decode", "encode", "format_map", "printf", "Join", "mprintf", NULL,
};

int tab_builder(const char *callee) { return (roles_of(callee) & N_BUILDER) != 0; }

/* Control and declaration keywords: never variables or functions. */
static const char *const keywords[] = {
    "if", "else", "elif", "elsif", "for", "foreach", "while", "do", "switch", "case",
    "default", "break", "continue", "return", "try", "catch", "except", "finally", "throw",
    "raise", "with", "yield", "await", "async", "def", "function", "func", "fn", "class",
    "struct", "interface", "enum", "import", "from", "package", "using", "namespace",
    "var", "let", "const", "new", "delete", "public", "private", "protected", "static",
    "final", "void", "unless", "until", "then", "end", "local", "begin", "in", "of",
    "not", "and", "or", "is", "lambda", "pass", "goto", "typedef", "extern", "register",
    "volatile", "inline", "sizeof", "typeof", "instanceof", "synchronized", "abstract",
    "override", "virtual", "go", "defer", "select", "range", "type", "module", "require_relative",
    NULL,
};

int tab_keyword(const char *w) { return (roles_of(w) & N_KEYWORD) != 0; }

static void build_index(void) {
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++)
        source_first[(uint8_t)sources[i].path[0]] = 1;
    for (int i = 0; keywords[i]; i++) add_name(keywords[i], N_KEYWORD);
    for (size_t i = 0; i < sizeof sinks / sizeof sinks[0]; i++) add_name(sinks[i].name, N_SINK);
    add_name("innerHTML", N_SINK);
    add_name("outerHTML", N_SINK);
    for (size_t i = 0; i < sizeof sanitizers / sizeof sanitizers[0]; i++)
        add_name(sanitizers[i].name, N_SANITIZER);
    for (int i = 0; builders[i]; i++) add_name(builders[i], N_BUILDER);
    for (int i = 0; guard_path[i]; i++) add_name(guard_path[i], N_GUARD);
    for (int i = 0; guard_all[i]; i++) add_name(guard_all[i], N_GUARD);
    for (size_t i = 0; i < sizeof source_calls / sizeof source_calls[0]; i++)
        add_name(source_calls[i].name, N_SOURCE);
}
