from django import template
from django.contrib import admin

register = template.Library()


@register.inclusion_tag("admin/import_export/_import_guide.html", takes_context=True)
def import_guide(context):
    """The import page's guide to the columns of the model being imported."""
    opts = context["opts"]
    model_admin = admin.site.get_model_admin(opts.model)
    resource = model_admin.get_import_resource_classes(context["request"])[0]()
    return {
        "opts": opts,
        "columns": resource.column_guide() if hasattr(resource, "column_guide") else [],
        "keys": [resource.fields[name].column_name for name in resource.get_import_id_fields()],
        "publishable": "status" in resource.fields,
    }
