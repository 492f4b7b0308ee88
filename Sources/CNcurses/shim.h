#ifndef FIELDKIT_CNCURSES_SHIM_H
#define FIELDKIT_CNCURSES_SHIM_H
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <locale.h>
#include <langinfo.h>
#include <ncursesw/curses.h>
#include <signal.h>

// The window-size signal must reach curses even when the parent left it blocked.
static inline void fk_unblock_winch(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGWINCH);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

// curses macros Swift cannot call, as functions.
static inline int fk_lines(void) { return LINES; }
static inline int fk_cols(void) { return COLS; }
static inline int fk_color_pair(int n) { return COLOR_PAIR(n); }
static inline int fk_key_resize(void) { return KEY_RESIZE; }
static inline int fk_key_backspace(void) { return KEY_BACKSPACE; }
static inline int fk_key_enter(void) { return KEY_ENTER; }
static inline int fk_key_f0(void) { return KEY_F0; }
static inline int fk_key_code_yes(void) { return KEY_CODE_YES; }
static inline int fk_ok(void) { return OK; }
static inline void fk_timeout(int ms) { timeout(ms); }
static inline int fk_keypad_on(void) { return keypad(stdscr, TRUE); }
static inline int fk_get_wch(unsigned int *out) {
    wint_t ch = 0;
    int rc = get_wch(&ch);
    *out = (unsigned int)ch;
    return rc;
}
static inline int fk_addstr(int y, int x, const char *s) { return mvaddstr(y, x, s); }
static inline int fk_attron(int a) { return attron(a); }
static inline int fk_attroff(int a) { return attroff(a); }
static inline int fk_bold(void) { return A_BOLD; }
static inline int fk_reverse(void) { return A_REVERSE; }
static inline const char *fk_codeset(void) { return nl_langinfo(CODESET); }
#endif
