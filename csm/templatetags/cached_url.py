"""The ``{% url %}`` tag, with the same syntax and result, reversing through ``csm.urlcache``.

Installed as a template builtin (settings.TEMPLATES), so every template's ``{% url %}`` uses it.
"""

from typing import cast

from django import template
from django.template import defaulttags
from django.urls import NoReverseMatch
from django.utils.html import conditional_escape

from csm import urlcache

register = template.Library()


class CachedURLNode(defaulttags.URLNode):
    def render(self, context) -> str:
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {k: v.resolve(context) for k, v in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        request = getattr(context, "request", None)
        current_app = getattr(request, "current_app", None)
        if current_app is None:
            current_app = getattr(getattr(request, "resolver_match", None), "namespace", None)
        url = ""
        try:
            url = urlcache.reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token) -> CachedURLNode:
    node = defaulttags.url(parser, token)
    node.__class__ = CachedURLNode
    return cast(CachedURLNode, node)
