"""CDS Hooks 2.0 (https://cds-hooks.hl7.org/2.0/): discovery at `GET /cds-services`, and one service,
`clinqa-next-steps`, for the `patient-view` hook. The EHR (the CDS client) sends the patient's record as prefetch
(clinqa reaches no FHIR server); the service answers the "what next" question the record raises and returns cards.
Errors are JSON `{"error": ...}`: 400 for a request that is not a `patient-view` call, 412 when a prefetch the
service needs is missing, 404 for an unknown service. No account is needed, as for `POST /api/ask`."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clinqa.answer.cards import CardsResponse
from clinqa.errors import ClinqaError, NotFound, RecordError
from clinqa.settings import settings
from clinqa.web.backend import MAX_ID_CHARS, Web

SERVICE_ID = "clinqa-next-steps"
HOOK = "patient-view"
MEDICATIONS = {
    "medicationStatements": "MedicationStatement",
    "medicationRequests": "MedicationRequest",
    "medicationAdministrations": "MedicationAdministration",
}
PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    **{key: f"{kind}?patient={{{{context.patientId}}}}" for key, kind in MEDICATIONS.items()},
}
REQUIRED = ("patient", "conditions")  # and at least one of MEDICATIONS
# CDS clients may run in the clinician's browser (SMART apps, sandboxes): the service answers cross-origin calls.
# No cookie or credential of clinqa's is used here, so any origin may call.
CORS = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, POST, OPTIONS",
    "access-control-allow-headers": "Authorization, Content-Type",
    "access-control-max-age": "600",
}


class HookError(ClinqaError):
    """A request to a CDS service that is not a call it can serve (400)."""


class PrefetchMissing(HookError):
    """The call lacks prefetch the service needs; clinqa fetches nothing from a FHIR server itself (412)."""


class ServiceDefinition(BaseModel):
    hook: str
    id: str
    title: str
    description: str
    prefetch: dict[str, str]
    usageRequirements: str | None = None  # the specification's names, camelCase


class Discovery(BaseModel):
    services: list[ServiceDefinition]


class PatientViewContext(BaseModel):
    model_config = ConfigDict(extra="allow")  # encounterId, and whatever a later version adds

    userId: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    patientId: str = Field(min_length=1, max_length=MAX_ID_CHARS)


class HookRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # fhirServer, fhirAuthorization: not used (no FHIR server is reached)

    hook: str
    hookInstance: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    context: PatientViewContext
    prefetch: dict[str, Any] | None = None


SERVICE = ServiceDefinition(
    hook=HOOK,
    id=SERVICE_ID,
    title="clinqa: guideline next steps",
    description="For a patient with a cancer diagnosis, the next treatment options from the ingested guidelines"
    " (NCI PDQ), with their citations, applicability warnings for this patient, and matching trials",
    prefetch=PREFETCH,
    usageRequirements="Send the prefetch: clinqa reads no FHIR server.",
)


def parse_call(body: bytes) -> HookRequest:
    """The `patient-view` call in a request body; `HookError` naming what is wrong, `PrefetchMissing` when the
    prefetch lacks the patient, their conditions or every medication key."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise HookError(f"the body is not JSON: {exc}") from exc
    try:
        call = HookRequest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise HookError(f"{'.'.join(str(p) for p in first['loc']) or 'body'}: {first['msg']}") from exc
    if call.hook != HOOK:
        raise HookError(f"hook {call.hook!r}: {SERVICE_ID} serves {HOOK!r} only")
    prefetch = call.prefetch or {}
    missing = [k for k in REQUIRED if prefetch.get(k) is None]
    if not any(k in prefetch for k in MEDICATIONS):
        missing.append(" or ".join(MEDICATIONS))
    if missing:
        raise PrefetchMissing(f"prefetch lacks {', '.join(missing)}: clinqa reaches no FHIR server, send them")
    return call


def patient_view_call(resources: list[dict[str, Any]], patient_id: str, hook_instance: str) -> dict[str, Any]:
    """The `patient-view` call an EHR would send for a record (`fhir.load_resources`), its prefetch filled the way
    `PREFETCH` asks: for trying the service, the benchmark and the tests."""
    kinds = {"Condition": "conditions", **{kind: key for key, kind in MEDICATIONS.items()}}
    found: dict[str, list[dict[str, Any]]] = {key: [] for key in kinds.values()}
    patient = None
    for resource in resources:
        plain = {k: v for k, v in resource.items() if k != "_fullUrl"}
        if resource.get("resourceType") == "Patient" and resource.get("id") == patient_id:
            patient = plain
        elif resource.get("resourceType") in kinds:
            entry = {"resource": plain, **({"fullUrl": resource["_fullUrl"]} if "_fullUrl" in resource else {})}
            found[kinds[resource["resourceType"]]].append(entry)
    searchsets = {key: {"resourceType": "Bundle", "type": "searchset", "entry": e} for key, e in found.items()}
    return {
        "hook": HOOK,
        "hookInstance": hook_instance,
        "context": {"userId": "Practitioner/example", "patientId": patient_id},
        "prefetch": {"patient": patient, **searchsets},
    }


def site_address(request: Request) -> str:
    """clinqa's address for the cards' links: `web.base_url`, else the address the server listens on (never the
    request's Host header, which the caller chooses)."""
    base = settings().web.base_url.rstrip("/")
    if base:
        return base
    host, port = request.scope.get("server") or ("127.0.0.1", 80)
    return f"http://{host}:{port}"


def router(web: Web) -> APIRouter:
    routes = APIRouter(prefix="/cds-services")

    @routes.get("", response_model=Discovery)
    def discovery(response: Response) -> Discovery:
        response.headers.update(CORS)
        return Discovery(services=[SERVICE])

    @routes.options("", include_in_schema=False)
    @routes.options("/{service_id}", include_in_schema=False)
    def preflight() -> Response:
        """A browser's CORS preflight before it sends a call."""
        return Response(status_code=204, headers=CORS)

    @routes.post("/{service_id}", response_model=CardsResponse)
    async def patient_view(service_id: str, request: Request) -> JSONResponse:
        """The cards for the patient of the call's context, read from its prefetch."""
        if service_id != SERVICE_ID:
            raise NotFound(f"no CDS service {service_id!r} (GET /cds-services lists them)")
        call = parse_call(await request.body())
        try:
            cards = await web.patient_view(call.prefetch or {}, call.context.patientId, site_address(request))
        except RecordError as exc:
            raise HookError(str(exc)) from exc
        return JSONResponse(CardsResponse(cards=cards).model_dump(exclude_none=True), headers=CORS)

    return routes
