"""A Content Security Policy without inline scripts or styles, and templates that need none."""

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

ROOT = Path(settings.BASE_DIR)

SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.I | re.S)
HANDLER = re.compile(r"<[a-z][^>]*\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.I)
STYLE_ATTR = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I)
STYLE_BLOCK = re.compile(r"<style\b", re.I)
JAVASCRIPT_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.I)


def project_templates() -> list[Path]:
    folders = [Path(folder) for folder in settings.TEMPLATES[0]["DIRS"]]
    # Installed packages (a virtualenv inside the project included) are not ours to scan.
    ours = [Path(app.path) for app in apps.get_app_configs() if Path(app.path).is_relative_to(ROOT)]
    folders += [path / "templates" for path in ours if ".venv" not in path.relative_to(ROOT).parts]
    found = {path for folder in folders if folder.is_dir() for path in folder.rglob("*.html")}
    # E-mail bodies are read in mail clients, not served under the CSP; inline styles are how e-mail works.
    return sorted(path for path in found if "emails" not in path.parts)


def offences(text: str) -> list[str]:
    found = []
    for attrs, body in SCRIPT.findall(text):
        if body.strip() and "application/json" not in attrs:
            found.append(f"inline <script> body: {body.strip()[:60]!r}")
    found += [f"event handler attribute {name}=" for name in HANDLER.findall(text)]
    found += ["style= attribute"] * len(STYLE_ATTR.findall(text))
    found += ["<style> block"] * len(STYLE_BLOCK.findall(text))
    found += [f"javascript: URL in {attr}" for attr in JAVASCRIPT_URL.findall(text)]
    return found


@pytest.mark.django_db
def test_pages_send_a_policy_that_forbids_inline_scripts_and_styles(client, alice) -> None:
    client.force_login(alice)
    policy = client.get("/").headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


@pytest.mark.django_db
def test_the_sign_in_page_carries_the_policy_too(client) -> None:
    assert "script-src 'self'" in client.get("/login/").headers["Content-Security-Policy"]


def test_the_scanner_catches_each_kind_of_inline_code() -> None:
    sample = (
        '<script>alert(1)</script><a onclick="x()">x</a><div style="color:red"></div>'
        '<style>p{}</style><a href="javascript:void(0)">y</a><button hx-on:click="z">z</button>'
    )
    assert len(offences(sample)) == 6
    assert offences('<script src="/static/js/a.js"></script><script type="application/json">{}</script>') == []


def test_no_template_has_inline_scripts_handlers_or_styles() -> None:
    templates = project_templates()
    assert any(path.name == "base.html" for path in templates)
    found = {str(path.relative_to(ROOT)): problems for path in templates if (problems := offences(path.read_text()))}
    assert not found, "Templates the CSP would break:\n" + "\n".join(f"{k}: {v}" for k, v in found.items())
