#!/usr/bin/env python3
"""Writes a section-1 man page for a program from its argument-parser help dump.

Usage: manpage.py DUMP.json VERSION DATE [FILES_AND_ENVIRONMENT.json] > PROGRAM.1

DUMP.json is `PROGRAM --experimental-dump-help` (swift-argument-parser's ToolInfo), so the page
holds every subcommand's abstract, discussion and options exactly as `--help` shows them, in the
language the dump was made in. The optional second file adds ENVIRONMENT and FILES sections:
{"environment": [[NAME, TEXT], ...], "files": [[PATH, TEXT], ...], "see_also": [...], "title": {...}}.
"""
import json
import sys


def esc(text):
    """Text safe for roff: backslashes, leading dots and quotes, hyphens in words kept."""
    out = []
    for line in str(text).replace("\\", "\\e").splitlines() or [""]:
        if line.startswith((".", "'")):
            line = "\\&" + line
        out.append(line)
    return "\n".join(out)


def option_names(arg):
    names = []
    for n in arg.get("names") or []:
        prefix = "--" if n["kind"] == "long" else "-"
        names.append("\\fB" + prefix.replace("-", "\\-") + n["name"].replace("-", "\\-") + "\\fR")
    return names


def argument_item(arg):
    names = option_names(arg)
    value = arg.get("valueName")
    if arg["kind"] == "positional":
        head = "\\fI" + (value or "value").upper().replace("-", "_") + "\\fR"
        if arg.get("isRepeating"):
            head += " ..."
    else:
        head = ", ".join(names)
        if arg["kind"] == "option" and value:
            head += " \\fI" + value.replace("-", "\\-") + "\\fR"
    lines = [".TP", head]
    text = arg.get("abstract") or ""
    if arg.get("defaultValue") not in (None, ""):
        text += " (default: %s)" % arg["defaultValue"]
    lines.append(esc(text) if text else "\\&")
    if arg.get("discussion"):
        lines += [".IP", esc(arg["discussion"])]
    return lines


def shown(args):
    return [a for a in args or [] if a.get("shouldDisplay", True)
            and not any(n["name"] in ("help", "version", "generate-completion-script") for n in a.get("names") or [])]


def synopsis(path, cmd):
    parts = ["\\fB" + " ".join(path).replace("-", "\\-") + "\\fR"]
    if cmd.get("subcommands"):
        parts.append("\\fISUBCOMMAND\\fR")
    for a in shown(cmd.get("arguments")):
        if a["kind"] == "positional":
            v = (a.get("valueName") or "value").upper().replace("-", "_")
            parts.append(("[\\fI%s\\fR]" if a.get("isOptional") else "\\fI%s\\fR") % v + (" ..." if a.get("isRepeating") else ""))
    if any(a["kind"] != "positional" for a in shown(cmd.get("arguments"))):
        parts.append("[\\fIOPTIONS\\fR]")
    return " ".join(parts)


def command_section(path, cmd, lines):
    lines += [".SS \"%s\"" % " ".join(path).replace("-", "\\-"), synopsis(path, cmd)]
    if cmd.get("abstract"):
        lines += [".PP", esc(cmd["abstract"])]
    if cmd.get("discussion"):
        lines += [".PP", esc(cmd["discussion"])]
    for a in shown(cmd.get("arguments")):
        lines += argument_item(a)
    for sub in cmd.get("subcommands") or []:
        command_section(path + [sub["commandName"]], sub, lines)


def main():
    dump, version, date = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
    extra = json.load(open(sys.argv[4])) if len(sys.argv) > 4 else {}
    root = dump["command"]
    name = root["commandName"]
    headings = extra.get("title", {})
    h = lambda k, d: headings.get(k, d)
    lines = [
        '.TH "%s" 1 "%s" "%s %s" "%s"' % (name.upper().replace("-", "\\-"), date, name, version, h("manual", "User Commands")),
        ".SH %s" % h("name", "NAME"),
        "%s \\- %s" % (name.replace("-", "\\-"), esc(root.get("abstract", ""))),
        ".SH %s" % h("synopsis", "SYNOPSIS"),
        synopsis([name], root),
        ".SH %s" % h("description", "DESCRIPTION"),
        esc(root.get("abstract", "")),
    ]
    if root.get("discussion"):
        lines += [".PP", esc(root["discussion"])]
    if shown(root.get("arguments")):
        lines += [".SH %s" % h("options", "OPTIONS")]
        for a in shown(root.get("arguments")):
            lines += argument_item(a)
    lines += [".SH %s" % h("commands", "COMMANDS")]
    for sub in root.get("subcommands") or []:
        if sub["commandName"] == "help":
            continue
        command_section([name, sub["commandName"]], sub, lines)
    for key, title in (("environment", h("environment", "ENVIRONMENT")), ("files", h("files", "FILES"))):
        if extra.get(key):
            lines += [".SH " + title]
            for item, text in extra[key]:
                lines += [".TP", "\\fB%s\\fR" % item.replace("-", "\\-"), esc(text)]
    if extra.get("see_also"):
        lines += [".SH " + h("see_also", "SEE ALSO"), ", ".join("\\fB%s\\fR(%s)" % tuple(s.rsplit("(", 1)[0:1] + [s.rsplit("(", 1)[1].rstrip(")")]) for s in extra["see_also"])]
    sys.stdout.write("\n".join(lines) + "\n")


main()
