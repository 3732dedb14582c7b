"""Typed FastAPI dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from imajin.wiring import Platform


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


# Database integers are signed 64-bit, so 2**63 overflowed into a 500; 2**53 - 1 also
# survives JSON in a browser. One bound for every offset and event position.
MAX_POSITION = 2**53 - 1
Offset = Annotated[int, Query(ge=0, le=MAX_POSITION, description="Items to skip.")]
