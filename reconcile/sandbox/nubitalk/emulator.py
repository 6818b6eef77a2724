"""Nubitalk OneContact's contact API (create, update, delete; no reads), emulated.

Routes under `/nubitalk/standard/api/v1`; every call needs the Bearer token and
`Content-Type: application/json`; every answer is `{"success": true, "data": id}`
or a bare `{"success": false}`. What the vendor's page leaves open follows
`NubitalkSettings`. The contacts can be seen and edited only under
`/_admin/nubitalk`, as a supervisor would in OneSupervisor.
"""

from __future__ import annotations

import json
from typing import Any

from reconcile.sandbox.core import Emulator, Request, Response
from reconcile.sandbox.credentials import NUBITALK_TOKEN
from reconcile.sandbox.nubitalk.contact import (
    FIELDS,
    Contact,
    Invalid,
    Service,
    apply,
    check_required,
    parse,
    type_name,
)
from reconcile.sandbox.nubitalk.settings import NubitalkSettings

BASE = "/standard/api/v1"
FIRST_CONTACT_ID = 1001
SEED_SERVICES = (
    Service(484, "Sales", ("Address",), {"Metadata1": "string", "Metadata3": "string", "URL": "string"}),
    Service(485, "Renewals", ("Address", "Priority"), {"Customer": "string", "Score": "int"}),
    Service(486, "Collections", ("Address", "Priority", "AgentID"),
            {"Amount": "int", "Callback": "datetime", "VIP": "boolean", "Notes": "string"}),
)  # fmt: skip
REASON_HEADER = "X-Sandbox-Reason"  # the sandbox's own: the vendor never says why


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


class NubitalkEmulator(Emulator):
    name = "nubitalk"
    prefix = "/nubitalk"
    settings_type = NubitalkSettings

    def __init__(self) -> None:
        super().__init__()
        self.settings: NubitalkSettings
        self.services: dict[int, Service] = {}
        self.contacts: dict[int, Contact] = {}
        # Address -> ids that held it when stored (checked on use: a later change or delete
        # leaves stale ids). The duplicate check scanned every contact: a benchmark of
        # 10,000 creates measured the emulator's CPU, not the client.
        self._by_address: dict[str, dict[int, None]] = {}
        self.next_id = FIRST_CONTACT_ID
        self.reset()

    def reset(self) -> None:
        self.services = {s.id: s for s in SEED_SERVICES}
        self.contacts = {}
        self._by_address = {}
        self.next_id = FIRST_CONTACT_ID

    def error(self, status: int, message: str) -> Response:
        return Response.json(status, {"success": False}, {REASON_HEADER: message})

    def route_label(self, req: Request) -> str:
        route = self._route(req)
        if route is None:
            return f"{req.method} (unknown)"
        last = "{checkrepeated}" if req.method == "POST" else "{id}"
        return f"{req.method} /service/{{id}}/contacts/{last}"

    # -- answers --------------------------------------------------------------------
    def _failure(self, reason: str) -> _Refused:
        return _Refused(self.error(self.settings.failure_status, reason))

    def _not_found(self, reason: str) -> _Refused:
        return _Refused(self.error(self.settings.not_found_status, reason))

    @staticmethod
    def _success(data: int | None = None) -> Response:
        return Response.json(
            200, {"success": True} if data is None else {"success": True, "data": data}
        )

    # -- vendor routes --------------------------------------------------------------
    def _route(self, req: Request) -> list[str] | None:
        """`[serviceid, last]` of a vendor route, else None (the vendor's empty 404)."""
        if not req.under(self.prefix + BASE) or req.method not in ("POST", "PUT", "DELETE"):
            return None
        parts = req.segments(self.prefix + BASE)
        if len(parts) != 4 or parts[0] != "service" or parts[2] != "contacts":
            return None
        return [parts[1], parts[3]]

    def handle(self, req: Request) -> Response:
        route = self._route(req)
        if route is None:
            return Response(404)
        s = self.settings
        scheme, _, token = req.headers.get_ci("authorization").partition(" ")
        if scheme.lower() != "bearer" or token.strip() != NUBITALK_TOKEN:
            return self.error(s.auth_status, "missing or wrong Bearer token")
        with self.lock:
            try:
                ctype = req.headers.get_ci("content-type").split(";")[0].strip().lower()
                if s.require_content_type and ctype != "application/json":
                    raise self._failure("Content-Type: application/json is mandatory")
                service_id, last = route
                if req.method == "POST":
                    return self._create(service_id, last, req)
                contact = self._contact(service_id, last)
                if req.method == "PUT":
                    return self._update(contact, req)
                return self._delete(contact)
            except _Refused as refused:
                return refused.response

    def _service(self, raw: str) -> Service:
        service = self.services.get(int(raw)) if raw.isdigit() else None
        if service is None:
            raise self._not_found(f"no service {raw}")
        return service

    def _contact(self, service_id: str, contact_id: str) -> Contact:
        service = self._service(service_id)
        contact = self.contacts.get(int(contact_id)) if contact_id.isdigit() else None
        if contact is None:
            raise self._not_found(f"no contact {contact_id}")
        if contact.service != service.id and self.settings.service_mismatch == "not_found":
            raise self._not_found(f"contact {contact_id} is in service {contact.service}")
        return contact

    def _body(self, req: Request) -> Any:
        try:
            return json.loads(req.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise self._failure("the body is not JSON") from None

    def _create(self, service_id: str, checkrepeated: str, req: Request) -> Response:
        if checkrepeated not in ("true", "false"):
            raise self._failure(f"checkrepeated must be true or false, not {checkrepeated!r}")
        service = self._service(service_id)
        try:
            patch = parse(self._body(req), service, self.settings)
            contact = apply(Contact(self.next_id, service.id), patch, full=True)
            check_required(contact, service)
        except Invalid as exc:
            raise self._failure(str(exc)) from None
        address = contact.fields.get("Address")
        if checkrepeated == "true" and address is not None:
            taken = self._holder(address, service.id)
            if taken is not None:
                if self.settings.duplicate_answer == "existing_id":
                    return self._success(taken.id)
                raise self._failure(f"Address {address!r} is taken by contact {taken.id}")
        self._keep(contact)
        self.next_id += 1
        return self._success(contact.id)

    def _keep(self, contact: Contact) -> None:
        self.contacts[contact.id] = contact
        address = contact.fields.get("Address")
        if isinstance(address, str):
            self._by_address.setdefault(address, {})[contact.id] = None

    def _holder(self, address: str, service_id: int) -> Contact | None:
        """The first contact with this Address where checkrepeated looks."""
        in_service = self.settings.duplicate_scope == "service"
        found = []
        for cid in self._by_address.get(address, ()):
            c = self.contacts.get(cid)
            if (
                c is not None
                and c.fields.get("Address") == address
                and (not in_service or c.service == service_id)
            ):
                found.append(c)
        if len(found) < 2:
            return found[0] if found else None
        # Several (made by hand, or with checkrepeated=false): the first in the vendor's order.
        ids = {c.id for c in found}
        return next(c for c in self.contacts.values() if c.id in ids)

    def _update(self, contact: Contact, req: Request) -> Response:
        service = self.services.get(contact.service) or Service(contact.service, "")
        try:
            patch = parse(self._body(req), service, self.settings)
            after = apply(contact, patch, full=self.settings.update_mode == "full")
            check_required(after, service)
        except Invalid as exc:
            raise self._failure(str(exc)) from None
        self._keep(after)
        return self._success(contact.id)

    def _delete(self, contact: Contact) -> Response:
        del self.contacts[contact.id]
        answer = self.settings.delete_answer
        if answer == "empty":
            return Response(200)
        if answer == "no_content":
            return Response(204)
        return self._success(contact.id if answer == "success_with_id" else None)

    # -- admin routes ---------------------------------------------------------------
    def admin(self, req: Request) -> Response:
        parts = self.admin_parts(req)
        m = req.method
        if parts == ["contacts"]:
            if m == "GET":
                return Response.json(200, [c.to_json() for c in self.contacts.values()])
            if m == "POST":
                return Response.json(200, self._by_hand(req.json(), None).to_json())
        if len(parts) == 2 and parts[0] == "contacts" and parts[1].isdigit():
            contact = self.contacts.get(int(parts[1]))
            if contact is None:
                return Response.json(404, {"error": "no such contact"})
            if m == "GET":
                return Response.json(200, contact.to_json())
            if m == "PUT":
                return Response.json(200, self._by_hand(req.json(), contact).to_json())
            if m == "DELETE":
                del self.contacts[contact.id]
                return Response.json(200, {"deleted": True})
        if parts == ["services"] and m == "GET":
            return Response.json(200, [s.to_json() for s in self.services.values()])
        if len(parts) == 2 and parts[0] == "services" and parts[1].isdigit():
            sid = int(parts[1])
            if m == "PUT":
                return Response.json(200, self._configure(sid, req.json()).to_json())
            if m == "DELETE":
                return Response.json(200, {"deleted": self.services.pop(sid, None) is not None})
        return Response.json(404, {"error": "no such admin route"})

    def _by_hand(self, data: Any, old: Contact | None) -> Contact:
        """A contact written in OneSupervisor: no checks, no duplicate rule; fields given
        replace the old ones (null clears), Metadata entries merge by Name (null Value
        removes one) and keep their Type and Value exactly as given."""
        if not isinstance(data, dict):
            raise ValueError("a contact is a JSON object of Address, Priority, ..., Metadata")
        service = int(data.get("service", old.service if old else 0))
        if service not in self.services:
            raise ValueError(f"no service {service}")
        cid = old.id if old else int(data.get("id") or self.next_id)
        if old is None and cid in self.contacts:
            raise ValueError(f"contact {cid} exists")
        contact = Contact(
            cid, service, dict(old.fields) if old else {}, dict(old.metadata) if old else {}
        )
        for f in FIELDS:
            if f in data:
                contact.fields[f] = data[f]
        for item in data.get("Metadata") or []:
            if item.get("Value") is None:
                contact.metadata.pop(str(item["Name"]), None)
            else:
                contact.metadata[str(item["Name"])] = (str(item["Type"]), item["Value"])
        contact.fields = {k: v for k, v in contact.fields.items() if v is not None}
        self._keep(contact)
        self.next_id = max(self.next_id, cid + 1)
        return contact

    def _configure(self, sid: int, data: Any) -> Service:
        """Create a service or change its mandatory fields, extra fields or name."""
        if not isinstance(data, dict):
            raise ValueError('a service is {"name", "required": [...], "metadata": {Name: type}}')
        old = self.services.get(sid) or Service(sid, f"Service {sid}")
        metadata = dict(old.metadata)
        for name, raw in (data.get("metadata") or {}).items():
            kind = type_name(raw)
            if kind is None:
                raise ValueError(f"metadata {name!r}: unknown type {raw!r}")
            metadata[str(name)] = kind
        required = tuple(data.get("required", old.required))
        stray = [r for r in required if r not in FIELDS and r not in metadata]
        if stray:
            raise ValueError(f"required names no field: {', '.join(stray)}")
        service = Service(sid, str(data.get("name", old.name)), required, metadata)
        self.services[sid] = service
        return service
