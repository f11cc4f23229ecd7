using System.Text.Json;
using ChatKit.Protocol;
using Microsoft.AspNetCore.Http;

namespace ChatKit.AspNetCore.Http;

/// <summary>Writes the <c>{ code, message }</c> error body of the HTTP endpoints.</summary>
internal static class HttpErrors
{
    public static async Task WriteAsync(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(context.Response.Body, new ErrorBody { Code = code, Message = message }, ProtocolJson.Context.GetTypeInfo(typeof(ErrorBody))!, context.RequestAborted).ConfigureAwait(false);
    }

    public static int StatusOf(string code) => code switch
    {
        ChatErrorCodes.Forbidden => StatusCodes.Status403Forbidden,
        ChatErrorCodes.NotFound => StatusCodes.Status404NotFound,
        ChatErrorCodes.Unavailable => StatusCodes.Status503ServiceUnavailable,
        ChatErrorCodes.RateLimited => StatusCodes.Status429TooManyRequests,
        ChatErrorCodes.InternalError => StatusCodes.Status500InternalServerError,
        ChatErrorCodes.Unauthenticated => StatusCodes.Status401Unauthorized,
        _ => StatusCodes.Status400BadRequest,
    };
}
