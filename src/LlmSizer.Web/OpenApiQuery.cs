using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace LlmSizer.Web;

/// <summary>Documents the query fields an endpoint reads itself (the handlers read the query as a whole so that an
/// unknown or repeated field is a 400 naming it).</summary>
internal static class OpenApiQuery
{
    /// <summary>An operation transformer adding optional string query parameters.</summary>
    /// <param name="names">The field names.</param>
    /// <returns>The transformer.</returns>
    public static Func<OpenApiOperation, OpenApiOperationTransformerContext, CancellationToken, Task> Add(string[] names) =>
        (operation, _, _) =>
        {
            operation.Parameters ??= [];
            foreach (var name in names)
            {
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = name,
                    In = ParameterLocation.Query,
                    Required = false,
                    Description = name == "model" ? "A catalog id (see /api/models); paths and URLs are refused." : "As the CLI's flag of the same logical name (docs/contract.md).",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                });
            }

            return Task.CompletedTask;
        };
}
