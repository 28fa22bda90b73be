from rest_framework import permissions
from rest_framework.request import Request

from csm.roles import can_write


class RolePermission(permissions.IsAuthenticated):
    """Signed-in users read what they can see; read-only users never write.

    Kept apart from csm/api.py: DRF imports this class while rest_framework.views loads.
    """

    def has_permission(self, request: Request, view: object) -> bool:
        if not super().has_permission(request, view):
            return False
        return request.method in permissions.SAFE_METHODS or can_write(request.user)
