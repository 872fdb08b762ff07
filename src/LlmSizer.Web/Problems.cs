namespace LlmSizer.Web;

/// <summary>RFC 7807 problem-details responses. A field error carries <c>setting</c>: the logical name of the query
/// or body field at fault (<c>context</c>, <c>tensor_parallel</c>, <c>model</c>, <c>body</c>).</summary>
internal static class Problems
{
    /// <summary>The problem-details result.</summary>
    /// <param name="status">The HTTP status.</param>
    /// <param name="title">A short, fixed title.</param>
    /// <param name="detail">What was expected and found; never an exception's stack.</param>
    /// <param name="setting">The field at fault, if any.</param>
    /// <returns>The result.</returns>
    public static IResult Result(int status, string title, string? detail, string? setting)
    {
        var extensions = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (setting is not null)
        {
            extensions["setting"] = setting;
        }

        return Results.Problem(detail: detail, statusCode: status, title: title,
            type: "https://datatracker.ietf.org/doc/html/rfc9110#section-15." + (status >= 500 ? "6." + (status - 499) : "5." + (status - 399)),
            extensions: extensions);
    }

    /// <summary>Writes a problem-details response.</summary>
    /// <param name="context">The request.</param>
    /// <param name="status">The HTTP status.</param>
    /// <param name="title">A short, fixed title.</param>
    /// <param name="detail">What was expected and found.</param>
    /// <param name="setting">The field at fault, if any.</param>
    /// <returns>A task.</returns>
    public static Task Write(HttpContext context, int status, string title, string? detail, string? setting) =>
        Result(status, title, detail, setting).ExecuteAsync(context);
}
