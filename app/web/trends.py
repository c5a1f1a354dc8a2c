"""The trends page: charts of the hotfix picture over time (being built)."""

from fastapi import APIRouter

from app.services import Services
from app.web.auth import Access


def trends_router(services: Services, access: Access) -> APIRouter:
    return APIRouter(include_in_schema=False)
