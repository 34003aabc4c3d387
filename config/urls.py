from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import accounts
from config.api_root import ApiRootView

api_v1 = [
    path("", ApiRootView.as_view(), name="api-root"),
    path("auth/token/", accounts.TokenObtainView.as_view(), name="api-token"),
    path("", include("customers.api_urls")),
    path("", include("customers.order_api_urls")),
    path("", include("accounting.api_urls")),
    path("", include("scenarios.api_urls")),
    path("", include("salesforce_tasks.api_urls")),
    path("", include("salesforce_tasks.actions.api_urls")),
]

urlpatterns = [
    path("", include("customers.page_urls")),  # home and progress
    path("accounts/login/", auth_views.LoginView.as_view(form_class=accounts.LoginForm), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Password reset by email; the confirm page is the generic "set a password from a link" page
    # (config.accounts.password_set_url builds its links).
    path("accounts/password_reset/", accounts.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password_reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("customers/", include(("customers.urls", "customers"))),
    path("accounting/", include(("accounting.urls", "accounting"))),
    path("scenarios/", include(("scenarios.urls", "scenarios"))),
    path("sales/actions/", include(("salesforce_tasks.actions.urls", "actions"))),
    path("sales/", include(("salesforce_tasks.urls", "salesforce"))),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.not_found"
handler500 = "config.views.server_error"
