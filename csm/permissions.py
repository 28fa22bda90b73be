from typing import TYPE_CHECKING

from rest_framework import permissions
from rest_framework.request import Request

from csm.roles import can_write

if TYPE_CHECKING:  # rest_framework.views imports this module while it loads
    from rest_framework.views import APIView


class RolePermission(permissions.IsAuthenticated):
    """Signed-in users read what they can see; read-only users never write.

    Kept apart from csm/api.py: DRF imports this class while rest_framework.views loads.
    """

    def has_permission(self, request: Request, view: "APIView") -> bool:
        if not super().has_permission(request, view):
            return False
        return request.method in permissions.SAFE_METHODS or can_write(request.user)
