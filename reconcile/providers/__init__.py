"""Providers: one adapter per vendor API, behind `providers.base.Provider`."""

from __future__ import annotations

import httpx

from reconcile.config import ProviderConfig
from reconcile.providers.base import Provider


def provider_class(type_name: str) -> type[Provider]:
    if type_name == "ciopulse":
        from reconcile.providers.ciopulse import CiopulseProvider

        return CiopulseProvider
    if type_name == "jtel":
        from reconcile.providers.jtel import JtelProvider

        return JtelProvider
    if type_name == "nubitalk":
        from reconcile.providers.nubitalk import NubitalkProvider

        return NubitalkProvider
    if type_name == "ucontact":
        from reconcile.providers.ucontact import UcontactProvider

        return UcontactProvider
    raise NotImplementedError(f"provider type {type_name!r} is not implemented yet")


def make_provider(config: ProviderConfig, transport: httpx.BaseTransport | None = None) -> Provider:
    return provider_class(config.type)(config, transport=transport)
