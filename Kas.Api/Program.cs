using Catbird.Kas.Api;
using Catbird.Kas.Api.Apis;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseKasPipeline();
app.MapDefaultEndpoints();
app.MapKasApi();
app.MapMediaApi();
app.MapWebSocketApi();

app.Run();
