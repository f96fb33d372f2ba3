"""What the admin's lists must not give away (SPEC §7; issue "One door", finding 2).

- **Declared filters only.** Django's admin lets any query parameter filter a list by any field of
  the model (`?name__startswith=王`, `?birth_date__year=1990`), which recovers a masked name or a
  birth year one guess at a time. A list here filters only by what it declares: its `list_filter`
  fields (with the suffixes the admin's own filters write), its `date_hierarchy`, the person link
  (`person__id__exact`) and `extra_lookups`. Anything else is refused (the admin shows its
  "incorrect parameters" page).
- **Searches stay out of the address.** The search box posts; the term is kept encrypted in the
  session under a random token and the list is shown at `?s=<token>`, so an ID number or a name
  never reaches a URL, a browser history, a proxy's log or the Referer header.
"""

import secrets

from django.contrib import messages
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList
from django.contrib.admin.widgets import url_params_from_lookup_dict
from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _

from . import crypto

SEARCH_TOKEN_VAR = "s"
SESSION_KEY = "admin_searches"
KEPT_SEARCHES = 20
# The suffixes the admin's own list filters write after a field's path.
FILTER_SUFFIXES = ("", "__exact", "__isnull", "__gte", "__lt", "__gt", "__lte", "__in", "__id__exact", "__id__in")


def search_stash(request, term: str) -> str:
    """Keep `term` (encrypted) in the session; returns the token that names it."""
    kept = dict(request.session.get(SESSION_KEY, {}))
    while len(kept) >= KEPT_SEARCHES:
        kept.pop(next(iter(kept)))
    token = secrets.token_urlsafe(9)
    kept[token] = crypto.encrypt(term)
    request.session[SESSION_KEY] = kept
    return token


def search_unstash(request, token: str) -> str | None:
    value = request.session.get(SESSION_KEY, {}).get(token)
    return crypto.decrypt(value) if value else None


class PrivateSearchChangeList(ChangeList):
    """Links out of a list (pages, filters, sorting) carry the search token, never the term."""

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        token = getattr(request, "_search_token", None)
        if token:
            self.params.pop(SEARCH_VAR, None)
            self.params[SEARCH_TOKEN_VAR] = token
            self.filter_params.pop(SEARCH_VAR, None)
            self.filter_params[SEARCH_TOKEN_VAR] = [token]


class PrivateListMixin:
    """Declared filters only, and searches kept out of the address (see the module's docstring)."""

    extra_lookups: tuple[str, ...] = ()

    def declared_lookups(self, request) -> set[str]:
        from django.contrib.admin.filters import SimpleListFilter

        declared = set(self.extra_lookups)
        if self.date_hierarchy:
            declared.add(self.date_hierarchy)
        path = getattr(self, "person_path", None)
        if path:
            declared.add(f"{path}__id")
        for item in self.get_list_filter(request):
            if isinstance(item, type) and issubclass(item, SimpleListFilter):
                # Django 5.2 asks lookup_allowed about every parameter, a SimpleListFilter's too.
                declared.add(item.parameter_name)
                continue
            declared.add(item[0] if isinstance(item, list | tuple) else item)
        return declared

    def lookup_allowed(self, lookup, value, request=None):
        for fk_lookup in self.model._meta.related_fkey_lookups:
            fk_lookup = fk_lookup() if callable(fk_lookup) else fk_lookup
            if (lookup, value) in url_params_from_lookup_dict(fk_lookup).items():
                return True
        declared = self.declared_lookups(request)
        if not any(lookup == f"{field}{suffix}" for field in declared for suffix in FILTER_SUFFIXES):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_changelist(self, request, **kwargs):
        return PrivateSearchChangeList

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST" and SEARCH_VAR in request.POST and "index" not in request.POST:
            if "action" not in request.POST:
                params = request.GET.copy()
                for name in (SEARCH_VAR, SEARCH_TOKEN_VAR, "p", "e"):
                    params.pop(name, None)
                term = request.POST.get(SEARCH_VAR, "").strip()
                if term:
                    params[SEARCH_TOKEN_VAR] = search_stash(request, term)
                query = params.urlencode()
                return HttpResponseRedirect(f"{request.path}?{query}" if query else request.path)
        token = request.GET.get(SEARCH_TOKEN_VAR)
        if token is not None:
            params = request.GET.copy()
            params.pop(SEARCH_TOKEN_VAR)
            term = search_unstash(request, token)
            if term:
                params[SEARCH_VAR] = term
                request._search_token = token
            else:
                messages.warning(request, _("That search belongs to another session or has expired: search again."))
            request.GET = params
        return super().changelist_view(request, extra_context)
